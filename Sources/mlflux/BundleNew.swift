import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import MLFluxOutput
import Prediction

/// `mlflux bundle …`: make and check model bundles.
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Make, check and train model bundles (a new organism: bundle new, bundle check, bundle train).",
        subcommands: [BundleNew.self, BundleCheckCommand.self, BundleTrain.self])
}

struct BundleNew: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Make a self-contained bundle from a FluxML network, and report its dimensions, binding constraints and resolvable fluxes.",
        discussion: """
            The network is copied into the bundle folder, with the flux bounds table and the \
            tracers beside it, so the folder works wherever it is put on the search path. \
            Experiments: --tracer and --tracers, else every configuration of the FluxML file. \
            Measured: --measured, else every balanced pool with atoms. Free fluxes are chosen \
            automatically (--free names preferred ones, the rest is completed). The example \
            state (fluxes.json) is the mean of 256 sampled feasible states. The report tells, \
            over --states sampled states, which free fluxes the tracers resolve at MS precision: \
            moving one flux (net: ±10% of its range; exchange: ×2, ÷2) changes some MID entry by \
            more than 2 × (--relative·|value| + --absolute). An existing folder is never overwritten.
            """)

    @Argument(help: "Model name (`--model NAME`).") var name: String
    @Option(help: "FluxML network file (copied into the bundle).") var network: String
    @Option(help: ArgumentHelp("A tracer experiment: POOL=PATTERN[:FRACTION], parts of one experiment joined by '+' (e.g. GLC=100000:0.5+GLC=111111:0.5); repeat for more experiments.", valueName: "tracer"))
    var tracer: [String] = []
    @Option(help: "Tracer table (CSV: experiment,pool,pattern[,fraction]).") var tracers: String?
    @Option(help: ArgumentHelp("A measured fragment: POOL or POOL[1-3]; repeat. Default: every balanced pool with atoms.", valueName: "fragment"))
    var measured: [String] = []
    @Option(help: "Flux bounds table (CSV: reaction,kind,lower,upper; kind net or xch), in place of the network's bounds on those fluxes.")
    var constraints: String?
    @Option(help: ArgumentHelp("A preferred free flux: REACTION, REACTION.net or REACTION.xch; repeat, most wanted first.", valueName: "flux"))
    var free: [String] = []
    @Option(help: "One-line description for the manifest.") var description: String?
    @Option(help: "Bundle folder to create (default: Plugins/NAME).") var out: String?
    @Option(help: "Sampled states for the resolvability report (0: skip it).") var states: Int = 20
    @Option(help: "Absolute MID resolution of the resolvability report.") var absolute: Double = MIDResolution.massSpectrometer.absolute
    @Option(help: "Relative MID resolution of the resolvability report.") var relative: Double = MIDResolution.massSpectrometer.relative
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func validate() throws {
        try OptionCheck.count(states, "--states", in: 0...100_000, "sampled states")
        try OptionCheck.number(absolute, "--absolute", in: 0...1, "a resolution of MID fractions")
        try OptionCheck.number(relative, "--relative", in: 0...1, "a fraction of the value")
        guard format != .csv else { throw ValidationError("bundle new supports --format table or json") }
    }

    func run() throws {
        var request = NewBundleRequest(name: name, networkFile: network)
        request.tracers = tracer
        request.tracerFile = tracers
        request.measured = measured
        request.constraintsFile = constraints
        request.preferFree = free
        request.description = description
        let destination = out ?? ("Plugins" as NSString).appendingPathComponent(name)
        let started = Date()
        let bundle = try NewBundle.create(request, at: destination)
        FileHandle.standardError.write(Data(String(format: "wrote bundle '%@' to %@ (%.1f s); surveying…\n",
                                                   name, destination, Date().timeIntervalSince(started)).utf8))
        let progress = ProgressLine(label: "states")
        let survey = try BundleSurvey.survey(bundle, states: states,
                                             resolution: MIDResolution(relative: relative, absolute: absolute),
                                             progress: progress.report)
        if format == .json {
            struct Output: Encodable { var bundle: String; var name: String; var survey: BundleSurvey }
            print(try JSONOutput.string(Output(bundle: destination, name: name, survey: survey)))
            return
        }
        print(Self.text(bundle, survey))
    }

    static func text(_ bundle: ModelBundle, _ s: BundleSurvey) -> String {
        let d = s.dimensions
        func num(_ x: Double?) -> String { x.map { String(format: "%.6g", $0) } ?? "∞" }
        var out: [String] = []
        out.append("bundle \(bundle.name) in \(bundle.directory): network \(bundle.network.name) (\((bundle.networkPath as NSString).lastPathComponent), copied in)")
        out.append("dimensions: \(d.reactions) reactions (\(d.bidirectionalReactions) bidirectional), \(d.pools) pools (\(d.inputPools) input, \(d.balancedPools) balanced)")
        out.append("free fluxes: \(d.freeNet) net + \(d.freeExchange) exchange, \(d.fixed) fixed; flux space: \(d.netSpace) net + \(d.exchangeSpace) exchange dimensions")
        out.append("labeling: \(d.experiments) experiments × \(d.measured) measured fragments = \(d.midEntries) MID entries per sample")
        out.append("")
        out.append("constraints (\(s.constraints.count); binds: the flux space reaches the bound, slack: never reached)")
        if !s.constraints.isEmpty {
            out.append(TextTable.render([["CONSTRAINT", "LINE", "RANGE OF LEFT SIDE", "STATUS"]] + s.constraints.map {
                [$0.constraint, $0.line.map(String.init) ?? "", "[\($0.lower.map { num($0) } ?? "-∞"), \(num($0.upper))]", $0.status]
            }, rightAligned: [1]))
        }
        out.append("")
        let example = (try? bundle.exampleFluxState()).map { bundle.basis.freeFluxes(of: $0) }
        var header = ["FREE FLUX", "RANGE", "EXAMPLE"]
        if let r = s.resolvability {
            out.append("free fluxes; RESOLVED: share of \(r.states) sampled states in which moving the flux alone changes some MID entry by > 2 × (\(r.relativeResolution)·|x| + \(r.absoluteResolution))")
            header.append("RESOLVED")
        } else {
            out.append("free fluxes")
        }
        var rows = [header]
        for (k, name) in s.freeFluxes.enumerated() {
            var row = [name, bundle.basis.fixed[k] != nil ? "fixed" : "[\(num(s.freeLower[k])), \(num(s.freeUpper[k]))]",
                       example.map { num($0[k]) } ?? "-"]
            if let r = s.resolvability { row.append(r.visible[name].map { String(format: "%.0f%%", 100 * $0) } ?? "-") }
            rows.append(row)
        }
        out.append(TextTable.render(rows, rightAligned: [2, 3]))
        if let r = s.resolvability {
            let unresolved = r.fluxes.filter { (r.visible[$0] ?? 0) < 0.5 }
            out.append("")
            out.append(unresolved.isEmpty ? "every free flux is resolved in most sampled states (one flux at a time: an upper bound)"
                       : "poorly resolved (< 50% of states): \(unresolved.joined(separator: ", ")); consider other tracers (--tracer) or measured fragments")
        }
        return out.joined(separator: "\n")
    }
}
