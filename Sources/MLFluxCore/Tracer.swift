/// One labeled species of a tracer input: a 0/1 pattern over the pool's atoms
/// (carbons, then hydrogens) and its mole fraction in the input pool.
///
/// `purity` is the isotopic purity of each labeled position (probability that a
/// position marked 1 is actually heavy); positions marked 0 are light.
public struct TracerComponent: Hashable, Sendable {
    public var pattern: [Bool]
    public var fraction: Double
    public var purity: Double

    public init(pattern: [Bool], fraction: Double, purity: Double = 1) {
        self.pattern = pattern
        self.fraction = fraction
        self.purity = purity
    }

    /// Parses a `0`/`1` string such as `"110000"` (or `"000000"+"0000100"` already joined).
    public init?(pattern: String, fraction: Double, purity: Double = 1) {
        var bits: [Bool] = []
        for ch in pattern {
            switch ch {
            case "0": bits.append(false)
            case "1": bits.append(true)
            default: return nil
            }
        }
        self.init(pattern: bits, fraction: fraction, purity: purity)
    }

    /// The pattern as a `0`/`1` string.
    public var patternString: String { String(pattern.map { $0 ? "1" : "0" }) }
}

/// The labeling of one input pool: a mixture of labeled species; the rest
/// (1 − Σ fractions) is unlabeled.
public struct TracerInput: Hashable, Sendable {
    public var pool: String
    public var components: [TracerComponent]

    public init(pool: String, components: [TracerComponent]) {
        self.pool = pool
        self.components = components
    }

    /// Fraction of fully unlabeled molecules that fills the mixture to 1.
    public var unlabeledFraction: Double { 1 - components.reduce(0) { $0 + $1.fraction } }

    /// Mass isotopomer distribution of the atoms `positions` (0-based) of this input:
    /// entry `k` is the fraction of molecules with `k` heavy atoms among `positions`.
    public func mid(positions: [Int]) -> [Double] {
        var out = [Double](repeating: 0, count: positions.count + 1)
        out[0] = unlabeledFraction
        for c in components {
            // Heavy probability per position, then convolve Bernoulli distributions.
            var dist: [Double] = [1]
            for p in positions {
                let q = (p < c.pattern.count && c.pattern[p]) ? c.purity : 0
                var next = [Double](repeating: 0, count: dist.count + 1)
                for k in 0..<dist.count {
                    next[k] += dist[k] * (1 - q)
                    next[k + 1] += dist[k] * q
                }
                dist = next
            }
            for k in 0..<dist.count { out[k] += c.fraction * dist[k] }
        }
        return out
    }
}

/// One tracer experiment: the labeling of every input pool (pools not listed are unlabeled).
public struct TracerExperiment: Hashable, Sendable {
    public var id: String
    public var inputs: [TracerInput]

    public init(id: String, inputs: [TracerInput]) {
        self.id = id
        self.inputs = inputs
    }

    /// The input of `pool`, or `nil` if the pool is unlabeled in this experiment.
    public func input(for pool: String) -> TracerInput? { inputs.first { $0.pool == pool } }
}
