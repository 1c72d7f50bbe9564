import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import Prediction
import SafeIO

/// `mlflux map`: a flux state file drawn on a model's network (the picture `predict --map` draws
/// of a prediction), e.g. the bundle's example fluxes.
struct MapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map",
        abstract: "Draw a flux state on a model's network (SVG flux map; Escher reaction data).",
        discussion: """
            Arrow width ∝ |net flux|, arrowheads in the net direction, dashed companions where the \
            exchange flux is nonzero, colour ΔG (kJ/mol, from net and exchange at --temperature; grey \
            for one-way reactions). The layout is automatic unless the bundle has a map file \
            (manifest "files": {"map": "map.json"}, Guides/Bundles.md). Standard errors are 0: the \
            state is drawn as given.
            Example: mlflux map --model glycolysis --out glycolysis-map.svg
            """)

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Flux state JSON {\"REACTION\": {\"net\": x, \"xch\": y}, …} (default: the bundle's example fluxes).") var fluxes: String?
    @Option(help: "Write the SVG map to this file.") var out: String
    @Option(help: "Also write Escher reaction data (JSON {\"REACTION\": net flux}) to this file.") var escher: String?
    @Option(help: "Temperature for ΔG, in K.") var temperature: Double = Thermodynamics.bodyTemperature
    @Option(help: "Title above the map (default: the model and the flux file).") var title: String?
    @Flag(help: "Replace existing output files.") var force = false

    func validate() throws {
        try OptionCheck.number(temperature, "--temperature", in: 1...1000, lowerOpen: false, "in K")
        if let escher, (escher as NSString).standardizingPath == (out as NSString).standardizingPath {
            throw ValidationError("--out and --escher name the same file")
        }
    }

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        let path = fluxes ?? bundle.exampleFluxesPath
        for o in [out] + (escher.map { [$0] } ?? []) { try OutputFile.check(o, force: force, inputs: [path]) }
        let state = try FluxStateFile.read(contentsOf: path, network: bundle.network)
        let problems = bundle.basis.violations(of: state, in: bundle.network, tolerance: 1e-6)
        if !problems.isEmpty {
            FileHandle.standardError.write(Data(
                "warning: \(path): flux state violates \(problems.count) constraint(s): \(problems.prefix(3).joined(separator: "; "))\(problems.count > 3 ? "; …" : ""); drawn as given\n".utf8))
        }
        let network = bundle.network
        var drawn = FluxPrediction(free: bundle.basis.freeFluxes(of: state), freeSE: [Double](repeating: 0, count: bundle.basis.count),
                                   basis: bundle.basis, network: network, temperature: temperature)
        drawn.net = state.net
        drawn.exchange = state.exchange
        drawn.deltaG = network.reactions.indices.map {
            network.isBidirectional[$0] ? Thermodynamics.deltaG(net: state.net[$0], xch: state.exchange[$0], temperature: temperature) : .nan
        }
        let name = fluxes.map { ($0 as NSString).lastPathComponent } ?? "example fluxes"
        try OutputFile.write(FluxMap.svg(network: network, prediction: drawn, layout: try bundle.fluxMapLayout(),
                                         title: title ?? "\(bundle.name): \(name)"), to: out)
        if let escher { try OutputFile.write(EscherReactionData.json(network: network, net: state.net), to: escher) }
        print("wrote \(out)")
        if let escher { print("wrote \(escher)") }
    }
}
