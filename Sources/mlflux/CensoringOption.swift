import ArgumentParser

/// `--gaussian-zeros`: least squares without the censored likelihood for MID entries at 0.
enum CensoringOption {
    static let help = ArgumentHelp("mfa, hybrid: fit MID entries measured at exactly 0 as Gaussian, (μ/σ)², instead of as left-censored, −2·log Φ(−μ/σ), with a profiled scale per renormalised MID (the default when the data contain zeros and no negative entry: clipped, renormalised MIDs).")
}
