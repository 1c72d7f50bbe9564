import ArgumentParser
import Foundation
import MLFluxCore

/// Range checks for numeric options, for `validate()`: each failure is one sentence naming
/// the option, its allowed range and the value given. Upper limits keep sizes and counts
/// far from integer overflow and from allocations no machine holds.
enum OptionCheck {
    /// `value` must lie in `range`; `why` (optional) explains the limit.
    static func count(_ value: Int, _ option: String, in range: ClosedRange<Int>, _ why: String? = nil) throws {
        guard range.contains(value) else {
            throw ValidationError("\(option) must be a whole number from \(grouped(range.lowerBound)) to \(grouped(range.upperBound))\(why.map { " (\($0))" } ?? ""), not \(value)")
        }
    }

    /// `value` must be finite and lie in `range` (`lowerOpen`: strictly above the lower bound).
    static func number(_ value: Double, _ option: String, in range: ClosedRange<Double>, lowerOpen: Bool = false,
                       _ why: String? = nil) throws {
        let above = lowerOpen ? value > range.lowerBound : value >= range.lowerBound
        guard value.isFinite, above, value <= range.upperBound else {
            let lower = lowerOpen ? "above \(range.lowerBound)" : "at least \(range.lowerBound)"
            throw ValidationError("\(option) must be a finite number \(lower) and at most \(range.upperBound)\(why.map { " (\($0))" } ?? ""), not \(value)")
        }
    }

    /// `value` must be finite and at least `lower` (no upper limit).
    static func number(_ value: Double, _ option: String, atLeast lower: Double, lowerOpen: Bool = false,
                       _ why: String? = nil) throws {
        guard value.isFinite, lowerOpen ? value > lower : value >= lower else {
            throw ValidationError("\(option) must be a finite number \(lowerOpen ? "above" : "at least") \(lower)\(why.map { " (\($0))" } ?? ""), not \(value)")
        }
    }

    /// σ of MID entries: `MeasuredLabeling.minimumStddev` … 1 (a fraction lies in 0…1).
    static func stddev(_ value: Double?) throws {
        guard let value else { return }
        try number(value, "--stddev", in: MeasuredLabeling.minimumStddev...1,
                   "σ of a MID fraction; below \(MeasuredLabeling.minimumStddev) the fit's weights 1/σ² overflow or lose all precision")
    }

    /// BLAS or worker threads: 1 … 1024.
    static func threads(_ value: Int, _ option: String = "--threads") throws {
        try count(value, option, in: 1...maxThreads)
    }

    static let maxThreads = 1024

    /// Comma-separated layer widths, each 1 … `maxWidth`, at most `maxLayers`, with at most
    /// `maxWeights` weights between consecutive layers; throws a `ValidationError` otherwise.
    static func widths(_ text: String, _ option: String, minimumLayers: Int = 1) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let widths = parts.map { Int($0) }
        guard !parts.isEmpty, widths.allSatisfy({ $0 != nil }) else {
            throw ValidationError("\(option) must be comma-separated whole numbers, e.g. 256,256,256, not '\(text)'")
        }
        let w = widths.map { $0! }
        guard w.count >= minimumLayers, w.count <= maxLayers else {
            throw ValidationError("\(option) must list \(minimumLayers) to \(maxLayers) layer widths, not \(w.count)")
        }
        if let bad = w.first(where: { $0 < 1 || $0 > maxWidth }) {
            throw ValidationError("\(option): every layer width must be from 1 to \(grouped(maxWidth)), not \(bad)")
        }
        let weights = zip(w, w.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }   // ≤ 64 · 16384² < 2⁶³
        guard weights <= maxWeights else {
            throw ValidationError("\(option) \(text) needs \(grouped(weights)) weights between its layers; at most \(grouped(maxWeights)) fit in memory for training (4 copies of each as Float32)")
        }
        return w
    }

    /// Rows × widest layer of one mini-batch: at most 2²⁸ Float32 activations (1 GiB) per layer.
    static func batch(_ batchSize: Int, _ option: String, widths: [Int], _ widthsOption: String) throws {
        let widest = widths.max() ?? 1
        guard batchSize * widest <= maxActivations else {
            throw ValidationError("\(option) \(batchSize) with a layer of width \(widest) (\(widthsOption)) needs \(grouped(batchSize * widest)) activations per layer; at most \(grouped(maxActivations)) (1 GiB of Float32) fit")
        }
    }

    static let maxActivations = 1 << 28
    static let maxWidth = 16_384
    static let maxLayers = 64
    static let maxWeights = 100_000_000

    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
