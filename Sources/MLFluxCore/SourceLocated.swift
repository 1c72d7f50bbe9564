/// An error with the file it came from, so a message reads
/// `Networks/toy.fml:12: reaction 'v4' names unknown pool 'molX'`.
public struct SourceLocatedError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var underlying: any Error & Sendable

    public init(file: String, line: Int?, underlying: any Error & Sendable) {
        self.file = file
        self.line = line
        self.underlying = underlying
    }

    public var description: String {
        let loc = line.map { "\(file):\($0)" } ?? file
        var msg = String(describing: underlying)
        if let l = line, msg.hasPrefix("line \(l): ") { msg.removeFirst("line \(l): ".count) }
        return "\(loc): \(msg)"
    }
}
