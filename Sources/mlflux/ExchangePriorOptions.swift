import ArgumentParser
import FluxSampling

/// `--exchange-prior` and `--exchange-floor` of `posterior` and `bench coverage`: the prior of
/// the free exchange fluxes (`FluxPosterior.exchangePrior`).
struct ExchangePriorOptions: ParsableArguments {
    @Option(help: "Prior of the free exchange fluxes: log10 (uniform in log10 down to 1e-7) or the distribution `mlflux dataset generate --exchange` draws: uniform, log-uniform, log-normal or mixed (the shipped networks were trained on mixed), cut at --exchange-floor.")
    var exchangePrior: String = "log10"
    @Option(help: "With --exchange-prior log-uniform, log-normal or mixed: the lower end (flux units) of the log scale, as in dataset generation.")
    var exchangeFloor: Double = SamplerSettings().exchangeFloor

    func validate() throws {
        guard exchangePrior == "log10" || SamplerSettings.ExchangeMethod(rawValue: exchangePrior) != nil else {
            throw ValidationError("unknown --exchange-prior '\(exchangePrior)' (known: log10, \(SamplerSettings.ExchangeMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard exchangeFloor.isFinite, exchangeFloor > 0 else { throw ValidationError("--exchange-floor must be a positive number") }
    }

    /// The sampler settings whose exchange distribution is the prior; nil for log10.
    var settings: SamplerSettings? {
        SamplerSettings.ExchangeMethod(rawValue: exchangePrior).map { SamplerSettings(exchange: $0, exchangeFloor: exchangeFloor) }
    }
}
