import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import MLFluxOutput
import Prediction
import SafeIO

/// `mlflux predict --replicates predict`: every replicate of a sample predicted on its own,
/// then per flux the mean ± SD over the replicates (`ReplicateFluxes`), as the ML-Flux web tool
/// reports replicate experiments.
extension Predict {
    func predictReplicates(bundle: ModelBundle) throws {
        guard profile == nil else {
            throw ValidationError("--profile needs --replicates average (profiles are of one fit, not of a mean over replicates)")
        }
        guard maps.map == nil && maps.escher == nil else {
            throw ValidationError("--map and --escher need --replicates average (they draw one prediction, not a mean over replicates)")
        }
        let inputs = [input] + (measurement.measuredFluxes.map { [$0] } ?? []) + measurement.table.files
        if let out { try OutputFile.check(out, force: force, inputs: inputs) }
        let samples = try measurement.table.readReplicates(input, layout: bundle.layout, model: bundle.name)
        var options = try measurement.registryOptions(for: bundle)
        options.imputer = imputer
        let p = try StrategyRegistry.predictor(predictor, bundle: bundle, options: options)
        // Each replicate takes the route of a single prediction (imputation, checks, fit report).
        let job = PredictionJob(bundle: bundle, predictors: [p], imputer: imputer, options: options)
        var results: [ReplicateOutput.Sample] = []
        for (sample, replicates) in samples {
            var fits: [ReplicateOutput.Fit] = [], predictions: [FluxPrediction] = []
            for (replicate, labeling) in replicates {
                let name = LabelingTableOptions.name(input, sample: sample, replicate: replicate)
                let o: PredictionJob.Outcome
                do { o = try job.run(labeling, input: name, predictor: p) }
                catch let e as PredictionJobError { throw CLIError(e.description) }
                catch let e as FitError { throw CLIError("\(name): \(e)") }
                for note in o.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
                predictions.append(o.prediction)
                fits.append(ReplicateOutput.Fit(replicate: replicate, chiSquared: o.fit.chiSquared, failure: nil))
            }
            results.append(ReplicateOutput.Sample(sample: sample, fluxes: ReplicateFluxes(predictions), fits: fits))
        }
        let text: String
        switch format {
        case .table: text = ReplicateOutput.table(results, network: bundle.network, predictor: predictor)
        case .csv: text = ReplicateOutput.csv(results, network: bundle.network)
        case .json: text = try ReplicateOutput.json(results, network: bundle.network, model: bundle.name, predictor: predictor)
        }
        try CommandOutput.emit(text, out: out, force: force, inputs: inputs)
    }
}

/// Formats of replicate predictions combined per sample (`ReplicateFluxes`).
enum ReplicateOutput {
    /// One replicate's fit: its χ² test (nil when its fluxes could not be re-simulated: `failure`).
    struct Fit: Encodable {
        var replicate: String
        var chiSquared: ChiSquaredTest?
        var failure: String?
    }

    struct Sample {
        var sample: String
        var fluxes: ReplicateFluxes
        var fits: [Fit]
    }

    static let num = PredictionOutput.num

    /// Rows (quantity, reaction index, statistic): net of every reaction, exchange and ΔG of bidirectional ones.
    static func quantities(_ f: ReplicateFluxes, network: MetabolicNetwork) -> [(String, Int, ReplicateFluxes.Statistic)] {
        network.reactions.indices.flatMap { r in
            [("net", r, f.net)] + (network.isBidirectional[r] ? [("xch", r, f.exchange), ("dG", r, f.deltaG)] : [])
        }
    }

    static func table(_ samples: [Sample], network: MetabolicNetwork, predictor: String) -> String {
        samples.map { s in
            let names = s.fits.map { $0.replicate.isEmpty ? "–" : $0.replicate }
            let listed = names.count <= 10 ? names.joined(separator: ", ") : names.prefix(8).joined(separator: ", ") + ", …, " + names.last!
            var out = (s.sample.isEmpty ? "" : "sample \(s.sample): ")
                + "\(s.fluxes.count) replicate(s) (\(listed)) each predicted by \(predictor); mean, SD over the replicates, SE of the mean = √((SD² + mean SE²)/n)\n"
            var rows = [["REACTION", "NET", "SD", "SE", "XCH", "SD", "SE", "ΔG kJ/mol", "SD", "SE"]]
            for (r, reaction) in network.reactions.enumerated() {
                let bi = network.isBidirectional[r]
                func cells(_ x: ReplicateFluxes.Statistic) -> [String] { bi ? [num(x.mean[r]), num(x.sd[r]), num(x.se[r])] : ["", "", ""] }
                rows.append([reaction.id, num(s.fluxes.net.mean[r]), num(s.fluxes.net.sd[r]), num(s.fluxes.net.se[r])]
                            + cells(s.fluxes.exchange) + cells(s.fluxes.deltaG))
            }
            out += TextTable.render(rows, rightAligned: Set(1..<10)) + "\n"
            out += "fits: " + fitSummary(s.fits) + "\n"
            return out
        }.joined(separator: "\n")
    }

    /// Each replicate's χ² verdict (up to 6 replicates), else how many pass and the VSSR range.
    static func fitSummary(_ fits: [Fit]) -> String {
        if fits.count <= 6 {
            return fits.map { f in
                let name = f.replicate.isEmpty ? "" : "\(f.replicate) "
                guard let c = f.chiSquared else { return name + "not simulated (\(f.failure ?? "?"))" }
                return name + String(format: "VSSR %.4g, %d dof, χ² ", c.vssr, c.degreesOfFreedom) + ComparisonOutput.verdict(c)
            }.joined(separator: "; ")
        }
        let tests = fits.compactMap(\.chiSquared), vssr = tests.map(\.vssr).sorted()
        var text = "\(fits.count) replicates, χ² pass in \(tests.filter(\.passes).count)"
        if let low = vssr.first, let high = vssr.last, let dof = tests.first?.degreesOfFreedom {
            text += String(format: "; VSSR %.4g … %.4g (median %.4g), %d dof", low, high, vssr[vssr.count / 2], dof)
        }
        if tests.count < fits.count { text += "; \(fits.count - tests.count) not simulated" }
        return text + " (--format json: each replicate's test)"
    }

    static func csv(_ samples: [Sample], network: MetabolicNetwork) -> String {
        var out = "sample,quantity,reaction,mean,sd,stderr,n\n"
        for s in samples {
            let sample = ColumnTable.quoted(s.sample)
            for (q, r, x) in quantities(s.fluxes, network: network) {
                out += "\(sample),\(q),\(network.reactions[r].id),\(num(x.mean[r])),\(num(x.sd[r])),\(num(x.se[r])),\(s.fluxes.count)\n"
            }
        }
        return out
    }

    static func json(_ samples: [Sample], network: MetabolicNetwork, model: String, predictor: String) throws -> String {
        struct Value: Encodable { var mean: Double; var sd: Double?; var se: Double }
        struct Flux: Encodable { var net: Value; var xch: Value?; var deltaG: Value? }
        struct One: Encodable { var sample: String; var replicates: [String]; var n: Int; var fluxes: [String: Flux]; var fits: [Fit] }
        struct Out: Encodable { var model: String; var predictor: String; var replicates = "predict"; var samples: [One] }
        func value(_ x: ReplicateFluxes.Statistic, _ r: Int) -> Value { Value(mean: x.mean[r], sd: x.sd[r].isNaN ? nil : x.sd[r], se: x.se[r]) }
        let items = samples.map { s in
            One(sample: s.sample, replicates: s.fits.map(\.replicate), n: s.fluxes.count,
                fluxes: Dictionary(uniqueKeysWithValues: network.reactions.enumerated().map { r, reaction in
                    let bi = network.isBidirectional[r]
                    return (reaction.id, Flux(net: value(s.fluxes.net, r), xch: bi ? value(s.fluxes.exchange, r) : nil,
                                              deltaG: bi ? value(s.fluxes.deltaG, r) : nil))
                }), fits: s.fits)
        }
        return try JSONOutput.string(Out(model: model, predictor: predictor, samples: items)) + "\n"
    }
}
