import MLFluxCore

/// Parses FluxML textual constraints: `;`-separated equalities and inequalities
/// between linear expressions, e.g. `v1=1;`, `PGI<=1.1;`, `0.9<=GLC_IN;`,
/// `2*v2-v3>=0;`, `1e-3 <= v4 <= 2.5;` (a chain gives one constraint per relation).
public enum ConstraintParser {
    /// A statement that could not be parsed.
    public struct ParseError: Error, Equatable, Sendable {
        public var statement: String
        public var reason: String
        /// 1-based line of the statement relative to the start of the text.
        public var lineOffset: Int
    }

    /// Parses all statements of `text`. `firstLine` is the line on which `text` starts;
    /// each constraint gets the line of its statement's first character.
    public static func parse(_ text: String, kind: FluxKind, firstLine: Int?) throws -> [FluxConstraint] {
        var out: [FluxConstraint] = []
        var newlinesBefore = 0
        var current = ""
        var currentStartNewlines: Int? = nil
        func flush() throws {
            let stmt = current.trimmed()
            defer { current = ""; currentStartNewlines = nil }
            guard !stmt.isEmpty else { return }
            let line = firstLine.map { $0 + (currentStartNewlines ?? 0) }
            do {
                out += try parseStatement(stmt, kind: kind, line: line)
            } catch let e as ParseError {
                throw ParseError(statement: e.statement, reason: e.reason, lineOffset: currentStartNewlines ?? 0)
            }
        }
        for ch in text {
            if ch == ";" {
                try flush()
            } else {
                if currentStartNewlines == nil && !ch.isWhitespace { currentStartNewlines = newlinesBefore }
                current.append(ch)
            }
            if ch == "\n" || ch == "\r\n" { newlinesBefore += 1 }
        }
        try flush()
        return out
    }

    /// Parses one statement (without `;`).
    public static func parseStatement(_ stmt: String, kind: FluxKind, line: Int?) throws -> [FluxConstraint] {
        func fail(_ reason: String) -> ParseError { ParseError(statement: stmt, reason: reason, lineOffset: 0) }
        var lexer = Lexer(Array(stmt))
        var sides: [Linear] = []
        var relations: [String] = []
        sides.append(try parseLinear(&lexer, fail))
        while let rel = lexer.relation() {
            relations.append(rel)
            sides.append(try parseLinear(&lexer, fail))
        }
        lexer.skipSpace()
        if !lexer.atEnd { throw fail("unexpected '\(String(lexer.rest))'") }
        guard !relations.isEmpty else { throw fail("no relation (=, ==, <=, >=, <, >)") }
        var result: [FluxConstraint] = []
        for (k, rel) in relations.enumerated() {
            var lhs = sides[k], rhs = sides[k + 1]
            var relation: FluxConstraint.Relation
            switch rel {
            case "=", "==": relation = .equal
            case "<=", "<", "=<": relation = .lessOrEqual
            case ">=", ">", "=>": relation = .greaterOrEqual
            default: throw fail("unknown relation '\(rel)'")
            }
            if lhs.terms.isEmpty && !rhs.terms.isEmpty {
                swap(&lhs, &rhs)
                switch relation {
                case .lessOrEqual: relation = .greaterOrEqual
                case .greaterOrEqual: relation = .lessOrEqual
                case .equal: break
                }
            }
            var terms = lhs.terms
            for t in rhs.terms { terms.append((t.0, -t.1)) }
            var order: [String] = []
            var coef: [String: Double] = [:]
            for (r, c) in terms {
                if coef[r] == nil { order.append(r) }
                coef[r, default: 0] += c
            }
            let combined = order.compactMap { r -> FluxConstraint.Term? in
                coef[r]! == 0 ? nil : FluxConstraint.Term(reaction: r, coefficient: coef[r]!)
            }
            guard !combined.isEmpty else { throw fail("no flux appears in the constraint") }
            let constant = rhs.constant - lhs.constant
            guard constant.isFinite, combined.allSatisfy({ $0.coefficient.isFinite }) else {
                throw fail("a number is not finite")
            }
            result.append(FluxConstraint(kind: kind, terms: combined, relation: relation,
                                         constant: constant == 0 ? 0 : constant, line: line))
        }
        return result
    }

    /// Parses one linear expression without relation, e.g. `v1`, `v1+v2`, `2*v3-v4`:
    /// terms of equal reactions combined (zero ones dropped), in order of first appearance.
    static func parseExpression(_ text: String) throws -> (terms: [FluxConstraint.Term], constant: Double) {
        func fail(_ reason: String) -> ParseError { ParseError(statement: text, reason: reason, lineOffset: 0) }
        var lexer = Lexer(Array(text))
        let lin = try parseLinear(&lexer, fail)
        lexer.skipSpace()
        if !lexer.atEnd { throw fail("unexpected '\(String(lexer.rest))'") }
        var order: [String] = []
        var coef: [String: Double] = [:]
        for (r, c) in lin.terms {
            if coef[r] == nil { order.append(r) }
            coef[r, default: 0] += c
        }
        let terms = order.compactMap { r in coef[r]! == 0 ? nil : FluxConstraint.Term(reaction: r, coefficient: coef[r]!) }
        guard lin.constant.isFinite, terms.allSatisfy({ $0.coefficient.isFinite }) else { throw fail("a number is not finite") }
        return (terms, lin.constant)
    }

    struct Linear {
        var terms: [(String, Double)] = []
        var constant: Double = 0
    }

    private static func parseLinear(_ lx: inout Lexer, _ fail: (String) -> ParseError) throws -> Linear {
        var lin = Linear()
        var first = true
        while true {
            lx.skipSpace()
            var sign = 1.0
            var sawSign = false
            while let c = lx.peek, c == "+" || c == "-" {
                if c == "-" { sign = -sign }
                lx.advance(); lx.skipSpace(); sawSign = true
            }
            if !first && !sawSign { break }
            // term: factor ('*' factor)*
            var coefficient = sign
            var reaction: String? = nil
            var needFactor = true
            while needFactor {
                lx.skipSpace()
                if let n = lx.number() {
                    guard let v = Double(n) else { throw fail("bad number '\(n)'") }
                    coefficient *= v
                } else if let id = lx.identifier() {
                    if reaction != nil { throw fail("product of two fluxes '\(reaction!)*\(id)' is not linear") }
                    reaction = id
                } else if lx.atEnd {
                    throw fail("expression ends where a number or flux name is expected")
                } else {
                    throw fail("unexpected '\(String(lx.rest))'")
                }
                lx.skipSpace()
                // Division by a number (13CFLUX's `v1/0.5 = v2/0.5`): a factor 1/x.
                while lx.peek == "/" {
                    lx.advance(); lx.skipSpace()
                    guard let n = lx.number(), let v = Double(n) else { throw fail("'/' must be followed by a number") }
                    guard v != 0, v.isFinite else { throw fail("division by \(n)") }
                    coefficient /= v
                    lx.skipSpace()
                }
                if lx.peek == "*" { lx.advance() } else { needFactor = false }
            }
            if let r = reaction { lin.terms.append((r, coefficient)) } else { lin.constant += coefficient }
            first = false
        }
        return lin
    }

    struct Lexer {
        let chars: [Character]
        var i = 0
        init(_ c: [Character]) { chars = c }
        var atEnd: Bool { i >= chars.count }
        var peek: Character? { i < chars.count ? chars[i] : nil }
        var rest: ArraySlice<Character> { chars[i...] }
        mutating func advance() { i += 1 }
        mutating func skipSpace() { while let c = peek, c.isWhitespace { i += 1 } }

        mutating func relation() -> String? {
            skipSpace()
            guard let c = peek, "<>=".contains(c) else { return nil }
            var r = String(c); i += 1
            if let d = peek, d == "=" || (c == "=" && (d == "<" || d == ">")) { r.append(d); i += 1 }
            return r
        }

        mutating func number() -> String? {
            guard let c = peek, c.isASCII, c.isNumber || c == "." else { return nil }
            var s = ""
            while let d = peek, d.isASCII, d.isNumber || d == "." { s.append(d); i += 1 }
            if let e = peek, e == "e" || e == "E" {
                var j = i + 1
                if j < chars.count, chars[j] == "+" || chars[j] == "-" { j += 1 }
                if j < chars.count, chars[j].isASCII, chars[j].isNumber {
                    s += String(chars[i..<j]); i = j
                    while let d = peek, d.isASCII, d.isNumber { s.append(d); i += 1 }
                }
            }
            return s
        }

        mutating func identifier() -> String? {
            guard let c = peek, c.isLetter || c == "_" else { return nil }
            var s = ""
            while let d = peek, d.isLetter || d.isNumber || d == "_" || d == "." { s.append(d); i += 1 }
            return s
        }
    }
}
