import ArgumentParser
import Bundles
import MLFluxOutput

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the model bundles found on the search path, with their predictors and imputers.",
        discussion: """
            One line per bundle: name, network, experiments, measured fragments, free fluxes, the \
            predictors and imputers it can run now, those that need training first (their weights \
            file is missing), and its folder. Strategies a bundle cannot take (e.g. the ANN on \
            diluted pools) are named in a note. Broken bundles are listed with their error.
            """)

    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func validate() throws {
        guard format != .csv else { throw ValidationError("models supports --format table or json") }
    }

    struct Row: Encodable {
        var name: String
        var directory: String
        var status: String
        var network: String?
        var experiments: Int?
        var measured: Int?
        var freeFluxes: Int?
        var strategies: [BundleStrategies.Entry]?
        var error: String?
        var shadowedBy: String?
    }

    mutating func run() throws {
        let registry = BundleRegistry(searchPaths: .standard())
        let statuses = registry.loadAll()
        var out: [Row] = []
        for status in statuses {
            switch status {
            case .loaded(let b):
                out.append(Row(name: b.name, directory: b.directory, status: "loaded", network: b.network.name,
                               experiments: b.experiments.count, measured: b.measured.count, freeFluxes: b.basis.count,
                               strategies: BundleStrategies(b).entries))
            case .failed(let c, let error):
                out.append(Row(name: c.name, directory: c.directory, status: "broken", error: "\(error)"))
            case .shadowed(let c):
                out.append(Row(name: c.name, directory: c.directory, status: "shadowed", shadowedBy: c.shadowedBy))
            }
        }
        if format == .json {
            struct Output: Encodable { var searched: [String]; var bundles: [Row] }
            print(try JSONOutput.string(Output(searched: registry.searchPaths.plugins, bundles: out)))
            return
        }
        if statuses.isEmpty {
            print("no model bundles found (searched \(registry.searchPaths.plugins.joined(separator: ", ")))")
            return
        }
        var rows: [[String]] = [["NAME", "NETWORK", "EXPERIMENTS", "MEASURED", "FREE FLUXES", "PREDICTORS", "IMPUTERS", "UNTRAINED", "PATH"]]
        var notes: [String] = []
        for (row, status) in zip(out, statuses) {
            switch status {
            case .loaded(let b):
                let s = BundleStrategies(b)
                func list(_ names: [String]) -> String { names.isEmpty ? "-" : names.joined(separator: ",") }
                rows.append([b.name, b.network.name, "\(b.experiments.count)", "\(b.measured.count)", "\(b.basis.count)",
                             list(s.names(.predictor, trained: true)), list(s.names(.imputer, trained: true)),
                             list(s.names(.predictor, trained: false) + s.names(.imputer, trained: false)), b.directory])
                if let why = s.entries.first(where: { $0.refused != nil })?.refused {
                    notes.append("\(b.name): \(s.refusedNames.joined(separator: ", ")) cannot take it: \(why)")
                }
            case .failed(let c, _):
                rows.append([c.name, "-", "-", "-", "-", "-", "-", "-", c.directory])
                notes.append("broken: \(c.name) (\(c.directory)): \(row.error ?? "")")
            case .shadowed(let c):
                notes.append("shadowed: \(c.name) (\(c.directory)) is hidden by \(c.shadowedBy ?? "an earlier bundle")")
            }
        }
        print(TextTable.render(rows, rightAligned: [2, 3, 4]))
        for n in notes { print(n) }
        if notes.contains(where: { $0.hasPrefix("broken: ") }) { print("see `mlflux bundle check NAME` for every problem of a broken bundle") }
    }
}
