import SafeIO

/// Where a command's formatted result goes: to `--out` (checked again just before writing, so
/// an input never becomes the output and an existing file needs `--force`) or standard output.
enum CommandOutput {
    static func emit(_ text: String, out: String?, force: Bool, inputs: [String]) throws {
        if let out {
            try OutputFile.check(out, force: force, inputs: inputs)
            try OutputFile.write(text, to: out)
        } else {
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        }
    }
}
