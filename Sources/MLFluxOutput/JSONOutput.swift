import Foundation

/// The one JSON style of the command line: pretty-printed, sorted keys, unescaped slashes,
/// non-finite numbers as the strings "inf", "-inf", "nan" (ΔG of an irreversible reaction).
public enum JSONOutput {
    public static func encoder() -> JSONEncoder {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return enc
    }

    public static func data<T: Encodable>(_ value: T) throws -> Data { try encoder().encode(value) }

    public static func string<T: Encodable>(_ value: T) throws -> String { String(decoding: try data(value), as: UTF8.self) }
}
