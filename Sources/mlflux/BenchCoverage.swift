import ArgumentParser
import Bundles
import Dispatch
import Foundation
import MLFluxCore
import MLFluxOutput
import Prediction

/// `mlflux bench coverage` (hidden): how often the 95 % intervals cover the truth over
/// noisy repeats of a model's example flux state (issue 13, item 4).
struct BenchCoverage: ParsableCommand {
    enum TruthSource: String, ExpressibleByArgument, CaseIterable { case example, prior }

    static let configuration = CommandConfiguration(
        commandName: "coverage",
        abstract: "Coverage of the 95 % linearised and profile-likelihood intervals over noisy repeats.",
        discussion: """
            Simulates the model's example flux state, adds Gaussian noise of σ --sigma to every MID \
            entry (each MID's noise projected onto sum zero, so it still sums to 1; or, with \
            --noise-model clipped, each MID clipped at 0 and renormalised), fits with \
            least-squares MFA (--starts polytope starts plus the truth as one more start, so that \
            coverage measures the intervals, not the multi-start search) and profiles --fluxes \
            (default: the free fluxes not fixed by constraints). Repeats run on --threads workers.
            """,
        shouldDisplay: false)

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Noisy repeats.") var repeats: Int = 200
    @Option(help: "σ of every MID entry.") var sigma: Double = 0.01
    @Option(help: "Polytope starts per fit (plus the truth).") var starts: Int = 2
    @Option(help: "Fluxes (REACTION.net / REACTION.xch, comma-separated, or all); default: the free fluxes.") var fluxes: String?
    @Option(help: "Seed of the noise.") var seed: UInt64 = 1
    @Option(help: "Truth of each repeat: example (the model's example flux state) or prior (a draw from the posterior's prior: uniform over the polytope, exchange fluxes uniform in log10; coverage then nominal by construction for a correct posterior).")
    var truth: TruthSource = .example
    @Option(help: "Worker threads (one repeat each).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @Flag(help: "Also sample the Bayesian posterior (mlflux posterior: 4 chains) of every repeat and report the coverage of its 68 % and 95 % credible intervals.") var posterior = false
    @Option(help: "--posterior: the sampler whose credible intervals are checked: mcmc (the chains) or smc (sequential Monte Carlo from the ANN's proposal, --particles per population, sweeping until R-hat ≤ 1.01 and ESS ≥ --min-ess).")
    var posteriorMethod: PosteriorMethod = .mcmc
    enum PosteriorMethod: String, ExpressibleByArgument, CaseIterable { case mcmc, smc }
    @Flag(help: "Skip the profile likelihood (with --posterior, when only the posterior's coverage is wanted).") var noProfile = false
    @Flag(help: "With --posterior: compare the ANN's per-prediction distribution with the posterior of every repeat (issue 14, item 5): centre within 0.5 posterior σ, 68 % width within ±25 % (exchange fluxes in log10).") var ann = false
    @Flag(help: "With --posterior: also sample each repeat's posterior by importance sampling with the ANN as the proposal (mlflux posterior --method importance) and compare it with the MCMC posterior like --ann.") var importance = false
    @Flag(help: "With --posterior: sample each repeat's posterior by sequential Monte Carlo from the ANN's proposal (mlflux posterior --method smc) instead of importance sampling, and compare it with the MCMC posterior like --importance.") var smc = false
    @Option(help: "--importance: proposed flux vectors per repeat.") var proposals: Int = 4000
    @Option(help: "--smc: particles per population (4 populations).") var particles: Int = 1000
    @Option(help: "--posterior: threads of each repeat's posterior (chains or populations); give --threads 1 to time one posterior on all cores.")
    var posteriorThreads: Int = 1
    @Option(help: "--posterior-method smc / --smc: the most sweeps after the tempering (mlflux posterior --max-sweeps).") var maxSweeps: Int = 1000
    @Option(help: "--posterior-method smc / --smc: begin no more sweeps after this many seconds (mlflux posterior --max-seconds).") var maxSeconds: Double?
    @Option(help: "--posterior: kept draws per chain.") var posteriorSamples: Int = 2000
    @Option(help: "--posterior: adapting burn-in steps per chain (default: as many as --posterior-samples).") var posteriorBurnIn: Int?
    @Flag(help: "--posterior: while a repeat's chains have a split R-hat above 1.01 or an ESS below --min-ess, double its draws and burn-in and sample again (as mlflux posterior --until-converged), up to --max-posterior-samples.")
    var untilConverged = false
    @Option(help: "--until-converged: the smallest effective sample size accepted.") var minEss: Double = 400
    @Option(help: "--until-converged: the most kept draws per chain.") var maxPosteriorSamples: Int = 160_000
    @Option(help: "Noise model: projected (Gaussian, each MID's noise projected onto sum zero) or clipped (Gaussian, each MID clipped at 0 and renormalised: the noise the networks train on and `evaluate --noise` adds).")
    var noiseModel: NoiseModel = .projected
    @OptionGroup var prior: ExchangePriorOptions

    enum NoiseModel: String, ExpressibleByArgument, CaseIterable { case projected, clipped }

    func validate() throws {
        try OptionCheck.count(repeats, "--repeats", in: 1...100_000)
        try OptionCheck.count(starts, "--starts", in: 0...1000)
        try OptionCheck.number(sigma, "--sigma", in: 0...1, lowerOpen: true)
        try OptionCheck.threads(threads)
        try OptionCheck.count(posteriorSamples, "--posterior-samples", in: 10...10_000_000)
        if let posteriorBurnIn { try OptionCheck.count(posteriorBurnIn, "--posterior-burn-in", in: 0...10_000_000) }
        guard format != .csv else { throw ValidationError("bench coverage supports --format table or json") }
        if (ann || importance || smc) && !posterior { throw ValidationError("--ann, --importance and --smc compare with the posterior: add --posterior") }
        if importance && smc { throw ValidationError("give --importance or --smc, not both") }
        if posteriorMethod == .smc && (importance || smc || untilConverged) {
            throw ValidationError("--posterior-method smc: --importance, --smc and --until-converged compare with or extend the chains; leave them out")
        }
        try OptionCheck.count(particles, "--particles", in: 50...1_000_000)
        try OptionCheck.threads(posteriorThreads, "--posterior-threads")
        try OptionCheck.count(maxSweeps, "--max-sweeps", in: 0...1_000_000)
        if let maxSeconds { try OptionCheck.number(maxSeconds, "--max-seconds", in: 0...1e7, lowerOpen: true) }
        try OptionCheck.count(proposals, "--proposals", in: 100...10_000_000)
        if untilConverged {
            guard posterior else { throw ValidationError("--until-converged applies to --posterior") }
            try OptionCheck.number(minEss, "--min-ess", in: 10...1e7)
            try OptionCheck.count(maxPosteriorSamples, "--max-posterior-samples", in: posteriorSamples...10_000_000)
        }
    }

    struct Row: Encodable {
        var flux: String
        var truth: Double
        var profileCoverage: Double
        var linearisedCoverage: Double
        var undetermined: Int
        var reachesBound: Int
        var meanProfileWidth: Double
        var meanLinearisedWidth: Double
        var posteriorCoverage68: Double?
        var posteriorCoverage95: Double?
        var medianPosteriorESS: Double?
        /// Smallest ESS and largest R-hat of the flux over the repeats (free fluxes).
        var minPosteriorESS: Double?
        var maxPosteriorRHat: Double?
        /// Repeats whose chains met R-hat ≤ 1.01 and ESS ≥ --min-ess for every free flux, and
        /// the 68 % / 95 % coverage over those repeats alone.
        var convergedRepeats: Int?
        var convergedCoverage68: Double?
        var convergedCoverage95: Double?
        /// --ann: shares of repeats whose ANN centre lies within 0.5 posterior σ of the posterior
        /// median, whose ANN 68 % width is within ±25 % of the posterior's, and both.
        var annCentreWithinHalfSigma: Double?
        /// The same against the posterior mean (in the same coordinates: log10 for exchange
        /// fluxes), the centre a network trained on a Gaussian likelihood estimates.
        var annCentreWithinHalfSigmaOfMean: Double?
        var annWidthWithin25: Double?
        var annBoth: Double?
        /// Centre within 0.5 posterior σ of the posterior mean and width within ±25 %.
        var annBothOfMean: Double?
        /// The same for the ANN's shaped distribution (its error shape's median and central
        /// 68 % interval, `FluxPrediction.shapedQuantile`), where the bundle carries one.
        var annShapedCentreWithinHalfSigma: Double?
        var annShapedWidthWithin25: Double?
        var annShapedBoth: Double?
        /// --importance / --smc: the corrected posterior's 68 % / 95 % coverage, its median ESS
        /// (importance: Kish's; smc: the smallest over the free fluxes across populations),
        /// its median largest R-hat (smc) and median seconds,
        /// and the shares of repeats whose median lies within 0.5 MCMC σ of the MCMC median,
        /// whose 68 % width is within ±25 % of the MCMC's, and both.
        var correctedCoverage68: Double?
        var correctedCoverage95: Double?
        var correctedMedianESS: Double?
        var correctedMedianRHat: Double?
        var correctedMedianSeconds: Double?
        var correctedCentreWithinHalfSigma: Double?
        var correctedWidthWithin25: Double?
        var correctedBoth: Double?
    }

    /// One repeat's posterior against the truth (and the ANN) for one flux.
    struct CredibleCheck: Sendable {
        var in68: Bool
        var in95: Bool
        var ess: Double
        var rHat: Double
        /// Every free flux of this repeat's chains converged (R-hat ≤ 1.01, ESS ≥ --min-ess).
        var converged = false
        /// Seconds of this repeat's posterior (all rounds).
        var seconds = Double.nan
        /// |ANN centre − posterior median| / posterior σ (half the 68 % width).
        var annCentre: Double?
        /// |ANN centre − posterior mean| / posterior σ (mean of log10 for exchange fluxes).
        var annCentreFromMean: Double?
        /// ANN 68 % width / posterior 68 % width.
        var annWidth: Double?
        /// The same two for the ANN's shaped distribution (median, central 68 % interval).
        var annShapedCentre: Double?
        var annShapedWidth: Double?
        /// --importance / --smc: whether its intervals hold the truth, its ESS, and its median's distance
        /// and 68 % width against the MCMC posterior's (as for the ANN).
        var correctedIn68: Bool?
        var correctedIn95: Bool?
        var correctedESS: Double?
        /// --smc: the largest R-hat across its populations, and its wall time.
        var correctedRHat: Double?
        var correctedSeconds: Double?
        var correctedCentre: Double?
        var correctedWidth: Double?
    }

    struct Report: Encodable {
        var model: String
        var build: String
        var repeats: Int
        var failedFits: Int
        var sigma: Double
        var seed: UInt64
        /// Where each repeat's truth came from: "example" or "prior".
        var truth: String
        var threads: Int
        var seconds: Double
        var secondsPerProfile: Double
        var refitsPerProfile: Double
        var lowerMinimaFound: Int
        /// Mean minimised VSSR over the fitted repeats and the fits' degrees of freedom: the
        /// mean of a χ²(dof) variable is dof.
        var meanVSSR: Double
        var degreesOfFreedom: Int
        /// --posterior: repeats whose posterior met R-hat ≤ 1.01 and ESS ≥ --min-ess for every
        /// free flux, and the median and largest seconds of one repeat's posterior (with
        /// --until-converged, all its rounds), on --posterior-threads threads.
        var posteriorConvergedRepeats: Int?
        var posteriorMedianSeconds: Double?
        var posteriorMaxSeconds: Double?
        var fluxes: [Row]
    }

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        var options = StrategyRegistry.Options()
        options.starts = max(starts, 1)
        options.threads = 1
        guard let mfa = (try StrategyRegistry.predictor("mfa", bundle: bundle, options: options) as? MFAPredictor)?.mfa else {
            throw CLIError("model \(model): no least-squares predictor")
        }
        let network = bundle.network, basis = bundle.basis, layout = bundle.layout
        let truthState = try bundle.exampleFluxState()
        let truthFree = basis.freeFluxes(of: truthState)
        let clean = try bundle.simulator().simulate(truthState).values
        let targets: [ProfiledFlux]
        if let fluxes {
            targets = try ProfileOption.parse(fluxes, network: network)
        } else {
            targets = basis.freeNet.enumerated().filter { basis.fixed[$0.offset] == nil }.map { ProfiledFlux(reaction: $0.element, kind: .net) }
                + basis.freeExchange.enumerated().filter { basis.fixed[basis.freeNet.count + $0.offset] == nil }
                    .map { ProfiledFlux(reaction: $0.element, kind: .xch) }
        }
        @Sendable func values(_ state: FluxState) -> [Double] {
            targets.map { $0.kind == .net ? state.net[$0.reaction] : state.exchange[$0.reaction] }
        }
        let exampleTruth = values(truthState), fromPrior = truth == .prior
        let exchangePrior = prior.settings, clipped = noiseModel == .clipped
        let sigma = self.sigma, starts = self.starts, seed = self.seed
        let clock = Date()
        let withProfile = !noProfile, withPosterior = posterior, posteriorSamples = self.posteriorSamples, posteriorBurnIn = self.posteriorBurnIn ?? posteriorSamples
        var annOptions = StrategyRegistry.Options()
        annOptions.measurementStddev = sigma
        let annPredictor = ann || importance || smc || posteriorMethod == .smc ? try StrategyRegistry.predictor("ann", bundle: bundle, options: annOptions) as? ANNPredictor : nil
        if (importance || smc || posteriorMethod == .smc) && annPredictor == nil { throw CLIError("--importance/--smc: model \(model) has no ANN to propose from") }
        let withImportance = importance, withSMC = smc, proposals = self.proposals, particles = self.particles, withANN = ann
        let smcPosterior = posteriorMethod == .smc
        let untilConverged = self.untilConverged, minESS = self.minEss, maxSamples = self.maxPosteriorSamples
        let posteriorThreads = self.posteriorThreads, maxSweeps = self.maxSweeps, maxSeconds = self.maxSeconds
        // Per repeat and target: the posterior's intervals against the truth (and the ANN).
        typealias Credible = [CredibleCheck]
        // Truths from the prior, drawn before the repeats (one sampler chain where box rejection fails).
        var priorTruths: [[Double]] = []
        if fromPrior {
            var draw = FluxPosterior(mfa: mfa)
            draw.exchangePrior = exchangePrior
            var rng = SplitMix64(seed: SplitMix64.mix(seed &+ 0x7_0000))
            priorTruths = draw.priorDraws(count: repeats, using: &rng)
            guard priorTruths.count == repeats else { throw CLIError("--truth prior: no draw from the prior of model \(model) (a polytope too thin for box rejection; give --exchange-prior)") }
        }
        let truths = priorTruths
        /// Sequential Monte Carlo of `measured` from the ANN's proposal (--particles, --min-ess).
        @Sendable func temperedPosterior(_ sampler: FluxPosterior, _ ann: ANNPredictor, _ measured: MeasuredLabeling) -> FluxPosterior.Result? {
            var t = TemperedPosterior(importance: ImportancePosterior(posterior: sampler, ann: ann))
            t.particles = particles
            t.minESS = minESS
            t.maxFinalRounds = (maxSweeps + t.finalSweeps - 1) / t.finalSweeps
            t.maxSeconds = maxSeconds
            return try? t.sample(measured)
        }
        let progressLine = ProgressLine(label: "repeats")
        let results = ParallelRows.map(count: repeats, threads: threads, progress: progressLine.report) { rep -> (LeastSquaresMFA.ProfileResult?, Double, Int, Credible, [Double])? in
            var rng = SplitMix64(seed: seed &+ UInt64(rep) &* 0x9E37_79B9_7F4A_7C15)
            var truthFree = truthFree, truth = exampleTruth, clean = clean
            if fromPrior {
                let t = truths[rep]
                guard let lab = try? mfa.simulator.simulate(basis.fluxState(free: t)) else { return nil }
                truthFree = t
                truth = values(basis.fluxState(free: t))
                clean = lab.values
            }
            var v: [Double]
            if clipped {
                v = MeasurementNoise.perturbed(clean, layout: layout, sigma: sigma, using: &rng)
            } else {
                v = clean.map { $0 + sigma * rng.nextGaussian() }
                for e in layout.experimentIDs.indices {
                    for (f, n) in layout.isotopologues.enumerated() {
                        let s = e * layout.blockSize + layout.offsets[f]
                        let excess = (v[s..<(s + n)].reduce(0, +) - 1) / Double(n)
                        for k in s..<(s + n) { v[k] -= excess }
                    }
                }
            }
            let measured = MeasuredLabeling(layout: layout, values: v, stddev: [Double](repeating: sigma, count: v.count),
                                            mask: [Bool](repeating: true, count: v.count))
            var model = mfa
            model.seed = UInt64(rep) &+ 1
            let given = (starts > 0 ? model.randomStarts(count: starts) : []) + [truthFree]
            guard let fit = model.fit(measured, starts: given) else { return nil }
            var credible: Credible = []
            if withPosterior {
                var sampler = FluxPosterior(mfa: model)
                sampler.exchangePrior = exchangePrior
                sampler.samples = posteriorSamples
                sampler.burnIn = posteriorBurnIn
                sampler.seed = UInt64(rep) &+ 1
                sampler.threads = posteriorThreads
                let posteriorClock = Date()
                var sampled: FluxPosterior.Result?
                if smcPosterior, let a = annPredictor {
                    sampled = temperedPosterior(sampler, a, measured)
                } else {
                    sampled = try? sampler.sample(measured)
                }
                while !smcPosterior, untilConverged, let s = sampled, !s.converged(minESS: minESS), sampler.samples < maxSamples {
                    sampler.samples = min(2 * sampler.samples, maxSamples)
                    sampler.burnIn *= 2
                    sampled = try? sampler.sample(measured)
                }
                let posteriorSeconds = Date().timeIntervalSince(posteriorClock)
                if let post = sampled {
                    let converged = post.converged(minESS: minESS)
                    let annPrediction = withANN ? try? annPredictor?.predict(measured: measured) : nil
                    let weighted: FluxPosterior.Result? = withImportance || withSMC ? annPredictor.flatMap { a in
                        var s = ImportancePosterior(posterior: sampler, ann: a)
                        s.proposals = proposals
                        return withSMC ? temperedPosterior(sampler, a, measured) : try? s.sample(measured)
                    } : nil
                    /// Sorted values of target `f` over `draws`.
                    func sortedValues(_ draws: [[Double]], _ f: ProfiledFlux) -> [Double] {
                        draws.map { d -> Double in
                            let st = basis.fluxState(free: d)
                            return f.kind == .net ? st.net[f.reaction] : max(st.exchange[f.reaction], 0)
                        }.sorted()
                    }
                    func quantile(_ values: [Double], _ p: Double) -> Double { values[min(Int(p * Double(values.count - 1)), values.count - 1)] }
                    credible = targets.enumerated().map { j, f in
                        let values = sortedValues(post.draws, f)
                        func q(_ p: Double) -> Double { quantile(values, p) }
                        let k = f.kind == .net ? basis.freeNet.firstIndex(of: f.reaction) : basis.freeExchange.firstIndex(of: f.reaction).map { $0 + basis.freeNet.count }
                        var check = CredibleCheck(in68: (q(0.16)...q(0.84)).contains(truth[j]), in95: (q(0.025)...q(0.975)).contains(truth[j]),
                                                  ess: k.map { post.ess[$0] } ?? .nan, rHat: k.map { post.rHat[$0] } ?? .nan,
                                                  converged: converged, seconds: posteriorSeconds)
                        // Comparisons with the posterior: net fluxes as they are, exchange fluxes in
                        // log10 (where both are closest to Gaussian), in units of its σ (half its 68 % width).
                        let tr: (Double) -> Double = f.kind == .net ? { $0 } : { log10(max($0, 1e-12)) }
                        let half = (tr(q(0.84)) - tr(q(0.16))) / 2
                        if let a = annPrediction {
                            let centre = f.kind == .net ? a.net[f.reaction] : a.exchange[f.reaction]
                            let se = f.kind == .net ? a.netSE[f.reaction] : a.exchangeSE[f.reaction] / (max(centre, 1e-12) * 2.302_585_092_994_046)
                            check.annCentre = abs(tr(centre) - tr(q(0.5))) / half
                            let mean = values.reduce(0) { $0 + tr($1) } / Double(values.count)
                            check.annCentreFromMean = abs(tr(centre) - mean) / half
                            check.annWidth = se / half
                            if let k, let m = a.shapedQuantile(free: k, probability: 0.5, basis: basis),
                               let i = a.shapedInterval(free: k, level: 0.68, basis: basis) {
                                check.annShapedCentre = abs(tr(m) - tr(q(0.5))) / half
                                check.annShapedWidth = (tr(i.upper) - tr(i.lower)) / 2 / half
                            }
                        }
                        if let w = weighted {
                            let v = sortedValues(w.draws, f)
                            check.correctedIn68 = (quantile(v, 0.16)...quantile(v, 0.84)).contains(truth[j])
                            check.correctedIn95 = (quantile(v, 0.025)...quantile(v, 0.975)).contains(truth[j])
                            check.correctedESS = w.importance?.effectiveSampleSize ?? w.ess.filter { !$0.isNaN }.min()
                            check.correctedRHat = w.rHat.filter { !$0.isNaN }.max()
                            check.correctedSeconds = w.seconds
                            check.correctedCentre = abs(tr(quantile(v, 0.5)) - tr(q(0.5))) / half
                            check.correctedWidth = (tr(quantile(v, 0.84)) - tr(quantile(v, 0.16))) / 2 / half
                        }
                        return check
                    }
                }
            }
            return (withProfile ? model.profile(fit, fluxes: targets, threads: 1) : nil, fit.vssr, fit.degreesOfFreedom, credible, truth)
        }
        let seconds = Date().timeIntervalSince(clock)
        let fitted = results.compactMap { (try? $0.get()) ?? nil }
        let done = fitted.compactMap(\.0)
        var rows: [Row] = []
        let credible = fitted.map(\.3).filter { !$0.isEmpty }
        let profiled = fitted.compactMap { r in r.0.map { ($0, r.4) } }
        for (j, f) in targets.enumerated() {
            let intervals = profiled.map { $0.0.fluxes[j] }, truths = profiled.map { $0.1[j] }
            let n = intervals.isEmpty ? .nan : Double(intervals.count)
            let c = credible.map { $0[j] }, nc = Double(max(c.count, 1))
            let ess = c.map(\.ess).sorted()
            let compared = c.filter { $0.annCentre != nil }, na = Double(max(compared.count, 1))
            func centreOK(_ x: CredibleCheck) -> Bool { x.annCentre! <= 0.5 }
            func widthOK(_ x: CredibleCheck) -> Bool { abs(x.annWidth! - 1) <= 0.25 }
            let shaped = c.filter { $0.annShapedCentre != nil }, ns = Double(max(shaped.count, 1))
            func shapedCentreOK(_ x: CredibleCheck) -> Bool { x.annShapedCentre! <= 0.5 }
            func shapedWidthOK(_ x: CredibleCheck) -> Bool { abs(x.annShapedWidth! - 1) <= 0.25 }
            let weighted = c.filter { $0.correctedIn68 != nil }, nw = Double(max(weighted.count, 1))
            rows.append(Row(
                flux: f.name(in: network), truth: fromPrior ? .nan : exampleTruth[j],
                profileCoverage: Double(zip(intervals, truths).filter { $0.profile?.contains($1) ?? false }.count) / n,
                linearisedCoverage: Double(zip(intervals, truths).filter { $0.linearised.contains($1) }.count) / n,
                undetermined: intervals.filter(\.undetermined).count,
                reachesBound: intervals.filter { $0.reachesLower || $0.reachesUpper }.count,
                meanProfileWidth: intervals.reduce(0) { $0 + ($1.profile.map { $0.upperBound - $0.lowerBound } ?? .nan) } / n,
                meanLinearisedWidth: intervals.reduce(0) { $0 + $1.linearised.upperBound - $1.linearised.lowerBound } / n,
                posteriorCoverage68: c.isEmpty ? nil : Double(c.filter(\.in68).count) / nc,
                posteriorCoverage95: c.isEmpty ? nil : Double(c.filter(\.in95).count) / nc,
                medianPosteriorESS: ess.isEmpty ? nil : ess[ess.count / 2], minPosteriorESS: ess.first,
                maxPosteriorRHat: c.map(\.rHat).max(),
                convergedRepeats: c.isEmpty ? nil : c.filter(\.converged).count,
                convergedCoverage68: c.isEmpty ? nil : Double(c.filter { $0.converged && $0.in68 }.count) / Double(max(c.filter(\.converged).count, 1)),
                convergedCoverage95: c.isEmpty ? nil : Double(c.filter { $0.converged && $0.in95 }.count) / Double(max(c.filter(\.converged).count, 1)),
                annCentreWithinHalfSigma: compared.isEmpty ? nil : Double(compared.filter(centreOK).count) / na,
                annCentreWithinHalfSigmaOfMean: compared.isEmpty ? nil : Double(compared.filter { $0.annCentreFromMean! <= 0.5 }.count) / na,
                annWidthWithin25: compared.isEmpty ? nil : Double(compared.filter(widthOK).count) / na,
                annBoth: compared.isEmpty ? nil : Double(compared.filter { centreOK($0) && widthOK($0) }.count) / na,
                annBothOfMean: compared.isEmpty ? nil : Double(compared.filter { $0.annCentreFromMean! <= 0.5 && widthOK($0) }.count) / na,
                annShapedCentreWithinHalfSigma: shaped.isEmpty ? nil : Double(shaped.filter(shapedCentreOK).count) / ns,
                annShapedWidthWithin25: shaped.isEmpty ? nil : Double(shaped.filter(shapedWidthOK).count) / ns,
                annShapedBoth: shaped.isEmpty ? nil : Double(shaped.filter { shapedCentreOK($0) && shapedWidthOK($0) }.count) / ns,
                correctedCoverage68: weighted.isEmpty ? nil : Double(weighted.filter { $0.correctedIn68! }.count) / nw,
                correctedCoverage95: weighted.isEmpty ? nil : Double(weighted.filter { $0.correctedIn95! }.count) / nw,
                correctedMedianESS: weighted.isEmpty ? nil : weighted.map { $0.correctedESS ?? .nan }.sorted()[weighted.count / 2],
                correctedMedianRHat: weighted.isEmpty || !smc ? nil : weighted.map { $0.correctedRHat ?? .nan }.sorted()[weighted.count / 2],
                correctedMedianSeconds: weighted.isEmpty ? nil : weighted.map { $0.correctedSeconds ?? .nan }.sorted()[weighted.count / 2],
                correctedCentreWithinHalfSigma: weighted.isEmpty ? nil : Double(weighted.filter { $0.correctedCentre! <= 0.5 }.count) / nw,
                correctedWidthWithin25: weighted.isEmpty ? nil : Double(weighted.filter { abs($0.correctedWidth! - 1) <= 0.25 }.count) / nw,
                correctedBoth: weighted.isEmpty ? nil : Double(weighted.filter { $0.correctedCentre! <= 0.5 && abs($0.correctedWidth! - 1) <= 0.25 }.count) / nw))
        }
        let all = done.flatMap(\.fluxes)
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        let report = Report(model: bundle.name, build: build, repeats: repeats, failedFits: repeats - fitted.count, sigma: sigma,
                            seed: seed, truth: truth.rawValue, threads: threads, seconds: seconds,
                            secondsPerProfile: all.reduce(0) { $0 + $1.seconds } / Double(max(all.count, 1)),
                            refitsPerProfile: Double(all.reduce(0) { $0 + $1.refits }) / Double(max(all.count, 1)),
                            lowerMinimaFound: all.filter { $0.lowerMinimum != nil }.count,
                            meanVSSR: fitted.reduce(0) { $0 + $1.1 } / Double(max(fitted.count, 1)),
                            degreesOfFreedom: fitted.first?.2 ?? 0,
                            posteriorConvergedRepeats: credible.isEmpty ? nil : credible.filter { $0.first?.converged ?? false }.count,
                            posteriorMedianSeconds: credible.isEmpty ? nil : credible.map { $0.first?.seconds ?? .nan }.sorted()[credible.count / 2],
                            posteriorMaxSeconds: credible.compactMap { $0.first?.seconds }.max(),
                            fluxes: rows)
        if format == .json { print(try JSONOutput.string(report)); return }
        print("model \(report.model): \(fitted.count) of \(repeats) repeats fitted, σ \(sigma), \(build) build, \(threads) threads, \(String(format: "%.1f", seconds)) s; per profile \(String(format: "%.3f", report.secondsPerProfile)) s, \(String(format: "%.1f", report.refitsPerProfile)) re-fits; \(report.lowerMinimaFound) profiles found a lower minimum; mean minimised VSSR \(String(format: "%.2f", report.meanVSSR)) for \(report.degreesOfFreedom) degrees of freedom")
        var table = [["FLUX", "TRUTH", "PROFILE COVER", "LINEARISED COVER", "UNDETERMINED", "AT BOUND", "MEAN WIDTH (PROFILE)", "MEAN WIDTH (LIN)"]]
        for r in rows {
            table.append([r.flux, PredictionOutput.num(r.truth), String(format: "%.1f %%", 100 * r.profileCoverage),
                          String(format: "%.1f %%", 100 * r.linearisedCoverage), "\(r.undetermined)", "\(r.reachesBound)",
                          PredictionOutput.num(r.meanProfileWidth), PredictionOutput.num(r.meanLinearisedWidth)])
        }
        print(TextTable.render(table, rightAligned: Set(1..<8)))
        if posterior {
            var post = [["FLUX", "POSTERIOR 68 % COVER", "POSTERIOR 95 % COVER", "MEDIAN ESS", "MIN ESS", "MAX R-HAT", "CONVERGED", "68 % (CONVERGED)", "95 % (CONVERGED)"]]
            func pct(_ x: Double?) -> String { x.map { String(format: "%.1f %%", 100 * $0) } ?? "" }
            for r in rows {
                post.append([r.flux, pct(r.posteriorCoverage68), pct(r.posteriorCoverage95),
                             r.medianPosteriorESS.map { String(format: "%.0f", $0) } ?? "",
                             r.minPosteriorESS.map { String(format: "%.0f", $0) } ?? "",
                             r.maxPosteriorRHat.map { String(format: "%.4f", $0) } ?? "",
                             r.convergedRepeats.map(String.init) ?? "", pct(r.convergedCoverage68), pct(r.convergedCoverage95)])
            }
            print(TextTable.render(post, rightAligned: Set(1..<9)))
            if let n = report.posteriorConvergedRepeats, let median = report.posteriorMedianSeconds, let most = report.posteriorMaxSeconds {
                print("posterior: \(n) of \(credible.count) repeats converged for every free flux; seconds per posterior (\(posteriorThreads) threads): median \(String(format: "%.1f", median)), largest \(String(format: "%.1f", most))")
            }
        }
        if ann {
            func pct(_ x: Double?) -> String { x.map { String(format: "%.1f %%", 100 * $0) } ?? "" }
            var amortized = [["FLUX", "ANN CENTRE ≤ 0.5 POSTERIOR σ OF MEDIAN", "OF MEAN", "ANN 68 % WIDTH ±25 %", "BOTH (MEDIAN)", "BOTH (MEAN)",
                              "SHAPED: MEDIAN ≤ 0.5 σ", "68 % WIDTH ±25 %", "BOTH"]]
            for r in rows {
                amortized.append([r.flux, pct(r.annCentreWithinHalfSigma), pct(r.annCentreWithinHalfSigmaOfMean),
                                  pct(r.annWidthWithin25), pct(r.annBoth), pct(r.annBothOfMean),
                                  pct(r.annShapedCentreWithinHalfSigma), pct(r.annShapedWidthWithin25), pct(r.annShapedBoth)])
            }
            print(TextTable.render(amortized, rightAligned: Set(1..<9)))
        }
        if importance || smc {
            func pct(_ x: Double?) -> String { x.map { String(format: "%.1f %%", 100 * $0) } ?? "" }
            var t = [["FLUX", "\(smc ? "SMC" : "IMPORTANCE") 68 % COVER", "95 % COVER", "MEDIAN ESS", "MEDIAN R-HAT", "MEDIAN s",
                      "MEDIAN ≤ 0.5 MCMC σ", "68 % WIDTH ±25 %", "BOTH"]]
            for r in rows {
                t.append([r.flux, pct(r.correctedCoverage68), pct(r.correctedCoverage95),
                          r.correctedMedianESS.map { String(format: "%.0f", $0) } ?? "",
                          r.correctedMedianRHat.map { String(format: "%.3f", $0) } ?? "",
                          r.correctedMedianSeconds.map { String(format: "%.2f", $0) } ?? "",
                          pct(r.correctedCentreWithinHalfSigma), pct(r.correctedWidthWithin25), pct(r.correctedBoth)])
            }
            print(TextTable.render(t, rightAligned: Set(1..<9)))
        }
    }
}
