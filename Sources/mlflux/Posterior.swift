import ArgumentParser
import Bundles
import FluxSampling
import Foundation
import MLFluxCore
import MLFluxOutput
import Prediction
import SafeIO

/// `mlflux posterior`: Bayesian 13C-MFA by MCMC (`FluxPosterior`).
struct Posterior: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bayesian 13C-MFA: posterior of the fluxes by MCMC, with credible intervals, R-hat and ESS.",
        discussion: """
            Likelihood exp(−VSSR/2) with the data's σ (stddev column, --stddev, default 0.01); \
            prior uniform over the flux polytope, exchange fluxes uniform in log10 (down to 1e-7) \
            or, with --exchange-prior, distributed as a dataset's (e.g. mixed, the shipped networks' training data). \
            Adaptive Metropolis from the least-squares optimum, --chains chains on --threads \
            threads, --burn-in adapting steps then --samples kept steps per chain; each chain \
            a parallel-tempering ladder of walkers (--ladder) with jumps along differences of \
            its past states (--history-jumps). Larger models need longer runs (glycolysis: \
            --samples 40000 --burn-in 10000). Prints the \
            posterior median and 68 % / 95 % credible intervals of every net and exchange flux \
            and ΔG, and R-hat and effective sample size (ESS) of every free flux; --out writes \
            the draws of the free fluxes as .npy (float64, [draws × free fluxes], chains one \
            after another; names in the JSON output and `mlflux describe`). \
            --method importance samples the same posterior by importance sampling with the \
            bundle's ANN as the proposal (--proposals simulations, no chains; in well under a \
            second on the shipped bundles): the ANN's per-prediction distribution, corrected \
            to the posterior; its effective sample size (ESS, one for all fluxes) says how well \
            the network's distribution covered the posterior. --method smc starts --particles \
            particles in each of --chains populations from the same proposal and carries them \
            to the posterior by tempering, resampling and Metropolis moves (sequential Monte \
            Carlo): it needs the network only to overlap the posterior, and reports R-hat and \
            ESS across the populations like the chains' (sweeps continue until R-hat ≤ 1.01 \
            and ESS ≥ --min-ess, or --max-sweeps sweeps, or --max-seconds). --method auto tries importance sampling, then \
            smc when its ESS is below --min-ess, then MCMC when the populations do not converge.
            """)

    enum Method: String, ExpressibleByArgument, CaseIterable { case mcmc, importance, smc, auto }

    @Option(help: "Model bundle name.") var model: String
    @Argument(help: "Measured MIDs (long-form CSV).") var input: String
    @Option(help: "Sampler: mcmc (adaptive Metropolis chains), importance (the bundle's ANN as the proposal of importance sampling), smc (sequential Monte Carlo from the ANN's proposal: tempering and moves) or auto (importance; then smc when its ESS is below --min-ess; then MCMC when the populations have not converged).")
    var method: Method = .mcmc
    @Option(help: "--method importance/auto: proposed flux vectors (one simulation each).") var proposals: Int = 4000
    @Option(help: "--method smc: particles per population (--chains populations).") var particles: Int = 1000
    @Option(help: "Chains (run in parallel); with --method smc, populations.") var chains: Int = 4
    @Option(help: "--method smc/auto: the most sweeps at β = 1 after the tempering (in rounds of 5) while R-hat > 1.01 or ESS < --min-ess.")
    var maxSweeps: Int = 1000
    @Option(help: "--method smc/auto: begin no more sweeps after this many seconds (the draws then depend on the machine's speed).")
    var maxSeconds: Double?
    @Option(help: "Kept draws per chain.") var samples: Int = 5000
    @Option(help: "Adapting burn-in steps per chain (discarded).") var burnIn: Int = 5000
    @Option(help: "Parallel tempering: inverse temperatures of each chain's walkers, comma-separated, descending from 1 (1 = none).")
    var ladder: String = FluxPosterior.defaultLadder.map { "\($0)" }.joined(separator: ",")
    @Option(help: "Share of steps that are jumps along differences of the chain's past states (0–1).")
    var historyJumps: Double = FluxPosterior.defaultHistoryJumps
    @Flag(help: "Rerun with doubled --samples and --burn-in until every free flux has R-hat ≤ 1.01 and ESS ≥ --min-ess, up to --max-samples kept draws per chain.")
    var untilConverged = false
    @Option(help: "With --until-converged or --method smc/auto: the smallest effective sample size accepted.") var minEss: Double = 400
    @Option(help: "With --until-converged: the most kept draws per chain.") var maxSamples: Int = 160_000
    @Option(help: "Write the draws of the free fluxes to this .npy file.") var out: String?
    @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table
    @Flag(help: "Replace an existing --out file.") var force = false
    @OptionGroup var measurement: MeasurementOptions
    @OptionGroup var prior: ExchangePriorOptions

    /// `--ladder` parsed: 1 first, descending, every β in (0, 1].
    var betas: [Double] {
        get throws {
            let parts = ladder.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard let values = parts as? [Double], values.first == 1,
                  zip(values, values.dropFirst()).allSatisfy({ $0 > $1 && $1 > 0 }) else {
                throw ValidationError("--ladder \(ladder): give inverse temperatures descending from 1, e.g. 1,0.5,0.25")
            }
            return values
        }
    }

    func validate() throws {
        _ = try betas
        if measurement.table.replicates == .predict {
            throw ValidationError("--replicates predict is `mlflux predict`'s; posterior samples around the replicates' mean MIDs (--replicates average)")
        }
        try OptionCheck.number(historyJumps, "--history-jumps", in: 0...1)
        try OptionCheck.count(chains, "--chains", in: 2...64)
        try OptionCheck.count(proposals, "--proposals", in: 100...10_000_000)
        try OptionCheck.count(particles, "--particles", in: 50...1_000_000)
        try OptionCheck.count(maxSweeps, "--max-sweeps", in: 0...1_000_000)
        if let maxSeconds { try OptionCheck.number(maxSeconds, "--max-seconds", in: 0...1e7, lowerOpen: true) }
        try OptionCheck.count(samples, "--samples", in: 10...10_000_000)
        try OptionCheck.count(burnIn, "--burn-in", in: 0...10_000_000)
        guard chains.multipliedReportingOverflow(by: samples).overflow == false, chains * samples <= 50_000_000 else {
            throw ValidationError("--chains × --samples must be at most 50,000,000 draws")
        }
        if method != .mcmc { try OptionCheck.number(minEss, "--min-ess", in: 10...1e7) }
        if untilConverged {
            try OptionCheck.count(maxSamples, "--max-samples", in: samples...10_000_000)
            try OptionCheck.number(minEss, "--min-ess", in: 10...1e7)
            guard chains * maxSamples <= 50_000_000 else {
                throw ValidationError("--chains × --max-samples must be at most 50,000,000 draws")
            }
        }
    }

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        try bundle.refuseDilution("posterior")
        let inputs = [input] + (measurement.measuredFluxes.map { [$0] } ?? [])
        if let out { try OutputFile.check(out, force: force, inputs: inputs) }
        let measured = try measurement.readTable(input, bundle: bundle)
        let options = try measurement.registryOptions(for: bundle)
        guard let mfa = (try StrategyRegistry.predictor("mfa", bundle: bundle, options: options) as? any LeastSquaresBacked)?.mfa else {
            throw CLIError("model \(model): no least-squares fit")
        }
        do { try mfa.check(measured) } catch { throw CLIError("\(input): \(error)") }
        var sampler = FluxPosterior(mfa: mfa)
        sampler.exchangePrior = prior.settings
        sampler.chains = chains
        sampler.samples = samples
        sampler.burnIn = burnIn
        sampler.seed = measurement.seed
        sampler.threads = measurement.threads
        sampler.ladder = try betas
        sampler.historyJumps = historyJumps
        var result: FluxPosterior.Result
        // --method importance / smc / auto: the ANN's proposal, corrected; auto goes on from
        // importance sampling to sequential Monte Carlo to MCMC while the one before falls short.
        let ann = method == .mcmc ? nil : try StrategyRegistry.predictor("ann", bundle: bundle, options: options) as? ANNPredictor
        if method != .mcmc && ann == nil {
            throw CLIError("--method \(method.rawValue): model \(model) has no trained ANN to propose from (use --method mcmc)")
        }
        func note(_ text: String) { FileHandle.standardError.write(Data("note: \(input): \(text)\n".utf8)) }
        var prepared: ImportancePosterior.Prepared?   // auto: built once, for both samplers
        if method == .importance || method == .auto {
            var importance = ImportancePosterior(posterior: sampler, ann: ann)
            importance.proposals = proposals
            let line = ProgressLine(label: "importance sampling")
            do {
                let proposal = try importance.prepare(measured)
                prepared = proposal
                result = try importance.sample(measured, prepared: proposal) { done, total in line.report(done, total) }
                let ess = result.importance?.effectiveSampleSize ?? 0
                if method == .importance || ess >= minEss {
                    return try finish(result, bundle: bundle, inputs: inputs)
                }
                note("importance sampling ESS \(String(format: "%.0f", ess)) < --min-ess \(String(format: "%.0f", minEss)); sampling by sequential Monte Carlo instead")
            } catch let e as ImportancePosterior.ImportanceError {
                guard method == .auto else { throw CLIError("\(input): \(e)") }
                note("\(e); sampling by sequential Monte Carlo instead")
            }
        }
        if method == .smc || method == .auto {
            var smc = TemperedPosterior(importance: ImportancePosterior(posterior: sampler, ann: ann))
            smc.particles = particles
            smc.populations = chains
            smc.minESS = minEss
            smc.maxFinalRounds = (maxSweeps + smc.finalSweeps - 1) / smc.finalSweeps
            smc.maxSeconds = maxSeconds
            let line = ProgressLine(label: "tempering (β × 1000 per population)")
            do {
                let sweeps = ProgressLine(label: "sweeps at β = 1 (stopping once R-hat ≤ 1.01 and ESS ≥ --min-ess)")
                result = try smc.sample(measured, prepared: prepared, progress: { done, total in line.report(done, total) },
                                        sweepProgress: { done, most in sweeps.report(done, most) })
                if method == .smc || result.converged(minESS: minEss) { return try finish(result, bundle: bundle, inputs: inputs) }
                let (rHat, ess) = result.convergence
                note("sequential Monte Carlo: largest R-hat \(String(format: "%.3f", rHat)), smallest ESS \(String(format: "%.0f", ess)); sampling by MCMC instead")
            } catch let e as ImportancePosterior.ImportanceError {
                guard method == .auto else { throw CLIError("\(input): \(e)") }
                note("\(e); sampling by MCMC instead")
            }
        }
        var round = 1
        while true {
            let line = ProgressLine(label: untilConverged ? "MCMC steps (round \(round), \(sampler.samples) draws per chain)" : "MCMC steps")
            do { result = try sampler.sample(measured) { done, total in line.report(done, total) } }
            catch let e as FitError { throw CLIError("\(input): \(e)") }
            let (rHat, ess) = result.convergence
            guard untilConverged, !result.converged(minESS: minEss), sampler.samples < maxSamples else { break }
            FileHandle.standardError.write(Data("note: round \(round): largest R-hat \(String(format: "%.3f", rHat)), smallest ESS \(String(format: "%.0f", ess)); doubling --samples and --burn-in\n".utf8))
            sampler.samples = min(2 * sampler.samples, maxSamples)
            sampler.burnIn *= 2
            round += 1
        }
        try finish(result, bundle: bundle, inputs: inputs)
    }

    /// Writes the draws (--out), warns about poor convergence and prints the summary.
    func finish(_ result: FluxPosterior.Result, bundle: ModelBundle, inputs: [String]) throws {
        let summary = PosteriorSummary(result, bundle: bundle, temperature: measurement.temperature)
        if let out {
            let d = bundle.basis.count
            try OutputFile.check(out, force: force, inputs: inputs)
            try NPYArray(result.draws.flatMap { $0 }, shape: [result.draws.count, d]).write(to: out)
        }
        let (maxRHat, minESS) = result.convergence
        if let importance = result.importance {
            if importance.effectiveSampleSize < minEss {
                FileHandle.standardError.write(Data("warning: \(input): importance sampling ESS \(String(format: "%.0f", importance.effectiveSampleSize)) of \(importance.proposals) proposals (below \(String(format: "%.0f", minEss))): the ANN's distribution misses the posterior; use more --proposals or --method mcmc\n".utf8))
            }
        } else if result.tempering != nil, maxRHat > 1.01 || minESS < minEss {
            FileHandle.standardError.write(Data("warning: \(input): the populations disagree (largest R-hat \(String(format: "%.3f", maxRHat)), smallest ESS \(String(format: "%.0f", minESS))); use more --max-sweeps or --particles, or --method mcmc\n".utf8))
        } else if maxRHat > 1.01 || minESS < (untilConverged ? minEss : 400) {
            FileHandle.standardError.write(Data("warning: \(input): the chains have not converged well (largest R-hat \(String(format: "%.3f", maxRHat)), smallest ESS \(String(format: "%.0f", minESS))); run longer (--samples, --burn-in)\n".utf8))
        }
        let text: String
        switch format {
        case .table: text = summary.table()
        case .csv: text = summary.csv()
        case .json: text = try JSONOutput.string(summary) + "\n"
        }
        print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
    }
}

/// Credible intervals and diagnostics of a posterior sample, per flux.
struct PosteriorSummary: Encodable {
    struct Interval: Encodable {
        var quantity: String
        var reaction: String
        var median: Double
        var lower68: Double
        var upper68: Double
        var lower95: Double
        var upper95: Double
    }
    struct FreeFlux: Encodable {
        var name: String
        var rHat: Double
        var ess: Double
    }
    var model: String
    var draws: Int
    var chains: Int
    var seconds: Double
    var acceptance: [Double]
    /// Accepted share of each chain's tempering swaps (absent without tempering).
    var swapRate: [Double]?
    /// "mcmc", "importance" or "smc".
    var method: String
    /// The least-squares optimum the chains started around (absent: importance sampling).
    var leastSquaresVSSR: Double?
    /// Importance sampling: its weights' diagnostics.
    var importance: ImportancePosterior.Diagnostics?
    /// Sequential Monte Carlo: what the tempering did.
    var tempering: TemperedPosterior.Diagnostics?
    var free: [FreeFlux]
    var fluxes: [Interval]

    init(_ r: FluxPosterior.Result, bundle: ModelBundle, temperature: Double) {
        let basis = bundle.basis, network = bundle.network
        let states = r.draws.map { basis.fluxState(free: $0) }
        func interval(_ q: String, _ id: String, _ values: [Double]) -> Interval {
            let s = values.filter { !$0.isNaN }.sorted()
            func at(_ p: Double) -> Double {
                guard !s.isEmpty else { return .nan }
                let x = p * Double(s.count - 1), i = Int(x), f = x - Double(i)
                return i + 1 < s.count ? s[i] * (1 - f) + s[i + 1] * f : s[i]
            }
            return Interval(quantity: q, reaction: id, median: at(0.5), lower68: at(0.16), upper68: at(0.84),
                            lower95: at(0.025), upper95: at(0.975))
        }
        var rows: [Interval] = []
        for (j, reaction) in network.reactions.enumerated() {
            rows.append(interval("net", reaction.id, states.map { $0.net[j] }))
            if network.isBidirectional[j] {
                rows.append(interval("xch", reaction.id, states.map { max($0.exchange[j], 0) }))
                rows.append(interval("dG", reaction.id, states.map {
                    Thermodynamics.deltaG(net: $0.net[j], xch: max($0.exchange[j], 0), temperature: temperature)
                }))
            }
        }
        model = bundle.name
        draws = r.draws.count
        chains = r.chains
        seconds = r.seconds
        acceptance = r.acceptance
        swapRate = r.swapRate.allSatisfy(\.isNaN) ? nil : r.swapRate
        leastSquaresVSSR = r.fit?.vssr
        method = r.importance != nil ? "importance" : r.tempering != nil ? "smc" : "mcmc"
        importance = r.importance
        tempering = r.tempering
        free = basis.names.indices.filter { basis.fixed[$0] == nil }.map {
            FreeFlux(name: basis.names[$0], rHat: r.rHat[$0], ess: r.ess[$0])
        }
        fluxes = rows
    }

    func table() -> String {
        let n = PredictionOutput.num
        var t = [["QUANTITY", "REACTION", "MEDIAN", "68 % LOW", "68 % HIGH", "95 % LOW", "95 % HIGH"]]
        for f in fluxes {
            t.append([f.quantity, f.reaction, n(f.median), n(f.lower68), n(f.upper68), n(f.lower95), n(f.upper95)])
        }
        var out = TextTable.render(t, rightAligned: Set(2..<7)) + "\n\n"
        if let importance {
            out += String(format: "importance sampling: %d proposals from the ANN's distribution in %.2f s; effective sample size %.0f; %.1f %% inside the polytope; largest weight %.3g; %d draws resampled\n",
                          importance.proposals, seconds, importance.effectiveSampleSize, 100 * importance.insideShare,
                          importance.largestWeight, draws)
            return out
        }
        var d = [["FREE FLUX", "R-HAT", "ESS"]]
        for f in free { d.append([f.name, String(format: "%.4f", f.rHat), String(format: "%.0f", f.ess)]) }
        out += TextTable.render(d, rightAligned: [1, 2]) + "\n"
        if let t = tempering {
            out += String(format: "\nsequential Monte Carlo: %d draws from %d populations in %.1f s; %d tempering steps and %d sweeps after them, %d simulations, move acceptance %.2f; importance sampling alone would have had ESS %.0f of %d\n",
                          draws, chains, seconds, t.stages, t.finalSweeps, t.simulations, t.acceptance, t.initialESS, t.particles / max(t.populations, 1))
            return out
        }
        out += String(format: "\n%d draws from %d chains in %.1f s; acceptance %@; least-squares optimum VSSR %.4g\n",
                      draws, chains, seconds, acceptance.map { String(format: "%.2f", $0) }.joined(separator: " "), leastSquaresVSSR ?? .nan)
        if let swapRate { out += "tempering swaps accepted " + swapRate.map { String(format: "%.2f", $0) }.joined(separator: " ") + "\n" }
        return out
    }

    func csv() -> String {
        var out = "quantity,reaction,median,lower68,upper68,lower95,upper95\n"
        for f in fluxes {
            out += "\(f.quantity),\(f.reaction),\([f.median, f.lower68, f.upper68, f.lower95, f.upper95].map(PredictionOutput.num).joined(separator: ","))\n"
        }
        return out
    }
}
