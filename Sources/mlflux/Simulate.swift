import ArgumentParser
import Bundles
import EMU
import FluxML
import Foundation
import MLFluxCore
import MLFluxOutput

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate the steady-state labeling (MIDs) of a flux state.",
        discussion: """
            With --network: MIDs of every non-input metabolite; tracer from --input or the \
            network's first configuration. With --model: the bundle's measured fragments; \
            tracer from --input or all the bundle's experiments; fragments with a formula in the \
            manifest's `fragments` come out as measured, with natural abundance (`mlflux correct` undoes it).
            Example: mlflux simulate --model toy --fluxes Plugins/toy/fluxes.json --input molA=100:0.5
            """)

    @Option(help: "FluxML network file.")
    var network: String?

    @Option(help: "Model bundle name (see `mlflux models`).")
    var model: String?

    @Option(help: "Flux state JSON: {\"REACTION\": {\"net\": x, \"xch\": y}, …}.")
    var fluxes: String

    @Option(name: .customLong("input"),
            help: "Tracer POOL=PATTERN[:FRACTION] (0/1 per atom, carbons then hydrogens; fraction default 1). Repeat for mixtures; the rest is unlabeled.")
    var inputs: [String] = []

    @Option(help: "Output format: table, csv or json.")
    var format: OutputFormat = .table

    func validate() throws {
        guard (network == nil) != (model == nil) else {
            throw ValidationError("give exactly one of --network FILE.fml or --model NAME")
        }
    }

    mutating func run() throws {
        let net: MetabolicNetwork
        var measured: [MeasuredFragment]? = nil
        var experiments: [TracerExperiment]
        var basis: FreeFluxBasis? = nil
        var maps: [String: MeasurementMap] = [:]
        if let path = network {
            net = try FluxMLReader.read(contentsOf: path)
            if inputs.isEmpty {
                guard let first = net.experiments.first else {
                    throw CLIError("\(path): the network has no tracer configuration; give --input POOL=PATTERN")
                }
                experiments = [first]
            } else {
                experiments = []
            }
            basis = try? FreeFluxBasis(network: net)
        } else {
            let bundle = try BundleRegistry(searchPaths: .standard()).load(model!)
            net = bundle.network
            measured = bundle.measured
            experiments = bundle.experiments
            basis = bundle.basis
            maps = bundle.measurementMaps
            if !bundle.dilution.isEmpty {
                FileHandle.standardError.write(Data("note: model '\(bundle.name)': pools \(Set(bundle.dilution.values).sorted().joined(separator: ", ")) are simulated undiluted (share f = 1: the MIDs the network makes)\n".utf8))
            }
        }
        if !inputs.isEmpty {
            experiments = [try TracerSpec.experiment(id: "input", specs: inputs, network: net)]
        }
        let state = try FluxStateFile.read(contentsOf: fluxes, network: net)
        if let b = basis {
            let problems = b.violations(of: state, in: net, tolerance: 1e-6)
            if !problems.isEmpty {
                FileHandle.standardError.write(Data(
                    "warning: \(fluxes): flux state violates \(problems.count) constraint(s): \(problems.prefix(3).joined(separator: "; "))\(problems.count > 3 ? "; …" : "")\n".utf8))
            }
        }
        let simulator = try EMUSimulator(network: net, measured: measured, experiments: experiments, measurementMaps: maps)
        let labeling = try simulator.simulate(state)
        print(LabelingOutput.render(labeling, format: format), terminator: "")
    }
}

/// A one-line error for conditions the library does not cover.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Formats simulated MIDs as an aligned table, long-form CSV or JSON.
enum LabelingOutput {
    static func render(_ l: SimulatedLabeling, format: OutputFormat) -> String {
        switch format {
        case .json: return json(l)
        case .csv: return csv(l)
        case .table: return table(l)
        }
    }

    /// One experiment: `{"METABOLITE": [m0, m1, …]}`; several: `{"EXPERIMENT": {…}}`.
    static func json(_ l: SimulatedLabeling) -> String {
        func block(_ e: Int, indent: String) -> String {
            let lines = l.fragments.indices.map { f in
                indent + "  " + jsonString(l.fragments[f].name) + ": ["
                    + l.mid(experiment: e, fragment: f).map { number($0) }.joined(separator: ", ") + "]"
            }
            return "{\n" + lines.joined(separator: ",\n") + "\n" + indent + "}"
        }
        if l.experimentIDs.count == 1 { return block(0, indent: "") + "\n" }
        let lines = l.experimentIDs.indices.map { e in
            "  " + jsonString(l.experimentIDs[e]) + ": " + block(e, indent: "  ")
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }

    static func csv(_ l: SimulatedLabeling) -> String {
        var out = "experiment,metabolite,isotopologue,fraction\n"
        for e in l.experimentIDs.indices {
            for f in l.fragments.indices {
                for (k, v) in l.mid(experiment: e, fragment: f).enumerated() {
                    out += "\(csvField(l.experimentIDs[e])),\(csvField(l.fragments[f].name)),\(k),\(number(v))\n"
                }
            }
        }
        return out
    }

    static func table(_ l: SimulatedLabeling) -> String {
        let width = l.fragments.indices.map { f in l.mid(experiment: 0, fragment: f).count }.max() ?? 1
        var rows: [[String]] = [["EXPERIMENT", "METABOLITE"] + (0..<width).map { "M+\($0)" }]
        for e in l.experimentIDs.indices {
            for f in l.fragments.indices {
                let mid = l.mid(experiment: e, fragment: f)
                rows.append([l.experimentIDs[e], l.fragments[f].name]
                            + mid.map { String(format: "%.6f", $0) }
                            + [String](repeating: "", count: width - mid.count))
            }
        }
        return TextTable.render(rows, rightAligned: Set(2..<(2 + width))) + "\n"
    }

    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        return v == 0 ? "0" : "\(v)"
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
