import ArgumentParser
import Bundles
import Foundation

struct BundleCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "List every problem of a bundle (manifest, network, side files, example state, files, weights), one per line.",
        discussion: "Exit status 0 when the bundle is sound, 1 when it has problems. NAME is looked up on the search path; a path (with a '/') is a bundle folder.")

    @Argument(help: "Model name or bundle folder.") var bundle: String

    func run() throws {
        let registry = BundleRegistry(searchPaths: .standard())
        let directory: String, pluginFolder: String?
        var isDir: ObjCBool = false
        let isFolder = FileManager.default.fileExists(atPath: bundle, isDirectory: &isDir) && isDir.boolValue
        if !bundle.contains("/"), let c = registry.candidates.first(where: { $0.shadowedBy == nil && $0.name == bundle })
            ?? registry.candidates.first(where: { ($0.directory as NSString).lastPathComponent == bundle }) {
            directory = c.directory
            pluginFolder = c.pluginFolder
        } else if isFolder {
            directory = bundle
            pluginFolder = nil
        } else if bundle.contains("/") {
            throw CLIError("\(bundle): no such bundle folder")
        } else {
            let known = registry.names
            throw CLIError("unknown model '\(bundle)' (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")); searched \(registry.searchPaths.plugins.joined(separator: ", ")))")
        }
        let problems = BundleCheck.problems(directory: directory, pluginFolder: pluginFolder,
                                                    networkSearchPath: registry.searchPaths.networks)
        if problems.isEmpty {
            print("\(directory): no problems")
            return
        }
        for p in problems { print(p) }
        FileHandle.standardError.write(Data("\(directory): \(problems.count) problem\(problems.count == 1 ? "" : "s")\n".utf8))
        throw ExitCode(1)
    }
}
