import MLFluxCore

/// 13CFLUX v3 atom maps (`cfg="C#1@1 C#2@1 C#3@1"`): each token names an atom as element,
/// position and reactant (`C#k@m`: atom k of the m-th reactant, as that reactant declares
/// it); a product lists, in its own atom order, where each of its atoms comes from. Translated
/// into this reader's letter maps: every (element, position, reactant) a reactant declares
/// gets one letter, and each product token takes the letter of the atom it names.
enum FluxML3AtomMaps {
    /// Letters for up to 62 distinct atoms of one reaction.
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    static func letters(substrates: [ReactionParticipant], products: [ReactionParticipant],
                        reaction: String, file: String, line: Int?) throws -> ([ReactionParticipant], [ReactionParticipant]) {
        func fail(_ why: String) -> FluxMLError {
            .invalidAttribute(file: file, line: line, element: "reaction", attribute: "cfg", value: reaction, reason: why)
        }
        // The tokens of a map ("C#1@1 C#2@1"; spaces were removed by the reader: split before each element letter).
        func tokens(_ map: [Character]) throws -> [String] {
            var out: [String] = [], current = ""
            for c in map {
                if c.isLetter && !current.isEmpty && current.contains("@") { out.append(current); current = "" }
                current.append(c)
            }
            if !current.isEmpty { out.append(current) }
            for t in out {
                let parts = t.split(separator: "#"), rest = parts.count == 2 ? parts[1].split(separator: "@") : []
                guard parts.count == 2, ["C", "H", "N", "O"].contains(String(parts[0])), rest.count == 2,
                      Int(rest[0]).map({ $0 >= 1 }) == true, Int(rest[1]).map({ $0 >= 1 }) == true else {
                    throw fail("atom '\(t)' must read ELEMENT#POSITION@REACTANT, e.g. C#1@1")
                }
            }
            return out
        }
        var letter: [String: Character] = [:]
        var newSubstrates = substrates
        for (i, s) in substrates.enumerated() {
            var map: [Character] = []
            for t in try tokens(s.atomMap) {
                if letter[t] == nil {
                    guard letter.count < alphabet.count else { throw fail("more than \(alphabet.count) traced atoms") }
                    letter[t] = alphabet[letter.count]
                } else {
                    throw fail("atom '\(t)' is declared by two reactants")
                }
                map.append(letter[t]!)
            }
            newSubstrates[i] = ReactionParticipant(pool: s.pool, atomMap: map, coefficient: s.coefficient, line: s.line)
        }
        var newProducts = products
        for (i, p) in products.enumerated() {
            let map = try tokens(p.atomMap).map { t -> Character in
                guard let l = letter[t] else { throw fail("product '\(p.pool)' names atom '\(t)', which no reactant declares") }
                return l
            }
            newProducts[i] = ReactionParticipant(pool: p.pool, atomMap: map, coefficient: p.coefficient, line: p.line)
        }
        return (newSubstrates, newProducts)
    }
}
