import ArgumentParser
import Bundles

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the model bundles found on the search path.",
        discussion: "One line per bundle: name, network, experiments, measured fragments, free fluxes, folder. Broken bundles are listed with their error.")

    mutating func run() throws {
        let registry = BundleRegistry(searchPaths: .standard())
        let statuses = registry.loadAll()
        if statuses.isEmpty {
            print("no model bundles found (searched \(registry.searchPaths.plugins.joined(separator: ", ")))")
            return
        }
        var rows: [[String]] = [["NAME", "NETWORK", "EXPERIMENTS", "MEASURED", "FREE FLUXES", "PATH"]]
        var notes: [String] = []
        for status in statuses {
            switch status {
            case .loaded(let b):
                rows.append([b.name, b.network.name, "\(b.experiments.count)", "\(b.measured.count)",
                             "\(b.basis.count)", b.directory])
            case .failed(let c, let error):
                rows.append([c.name, "-", "-", "-", "-", c.directory])
                notes.append("broken: \(c.name) (\(c.directory)): \(error)")
            case .shadowed(let c):
                notes.append("shadowed: \(c.name) (\(c.directory)) is hidden by \(c.shadowedBy ?? "an earlier bundle")")
            }
        }
        print(TextTable.render(rows, rightAligned: [2, 3, 4]))
        for n in notes { print(n) }
    }
}
