import Foundation
import SafeIO

/// Text helpers shared by the SVG plots and maps: escaping, coordinates, tick values.
enum SVGText {
    /// `s` safe inside SVG text and attribute values.
    static func escape(_ s: String) -> String { XMLEscape.text(s) }

    /// A coordinate with one decimal (`12.5`, `3`).
    static func coordinate(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r == r.rounded() && abs(r) < 1e15 ? String(Int(r)) : String(r)
    }

    /// A value with up to `digits` significant digits (`0.6`, `-12.3`, `1.2e-05`).
    static func value(_ x: Double, digits: Int = 3) -> String {
        if x.isNaN { return "n/a" }
        if x.isInfinite { return x < 0 ? "−∞" : "+∞" }
        return String(format: "%.\(digits)g", x)
    }

    /// Round tick values covering [`lo`, `hi`]: about `count` steps of 1, 2 or 5 × 10ᵏ, the
    /// multiples of the step inside the range.
    static func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard lo.isFinite, hi.isFinite, hi > lo, count > 0 else { return lo.isFinite ? [lo] : [] }
        let raw = (hi - lo) / Double(count)
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw * 0.999 } ?? 10 * magnitude
        var ticks: [Double] = []
        var t = (lo / step).rounded(.up)
        while t * step <= hi + step * 1e-9 {
            let v = t * step
            ticks.append(abs(v) < step * 1e-9 ? 0 : v)
            t += 1
        }
        return ticks
    }

    /// A tick label: the value with as few decimals as the step needs (`0.25`, `10`, `-2`).
    static func tick(_ v: Double, step: Double) -> String {
        let decimals = max(0, Int((-log10(step)).rounded(.up)) + (step / pow(10, (log10(step)).rounded(.down)) == 2.5 ? 1 : 0))
        if abs(v) >= 1e5 || (abs(v) < 1e-4 && v != 0) { return String(format: "%.2g", v) }
        return String(format: "%.\(min(decimals, 6))f", v)
    }

    /// Light grid lines across the plot area (`left`, `top`, `width`, `height`) at the ticks of
    /// both axes, with their labels below and left of it; `X`/`Y` map values to px.
    static func axisTicks(x: [(value: Double, label: String)], y: [(value: Double, label: String)],
                          X: (Double) -> Double, Y: (Double) -> Double,
                          left: Double, top: Double, width: Double, height: Double) -> String {
        let f = coordinate
        var out = ""
        for t in x {
            out += "<line x1=\"\(f(X(t.value)))\" y1=\"\(f(top))\" x2=\"\(f(X(t.value)))\" y2=\"\(f(top + height + 4))\" stroke=\"#e4e4e4\"/>"
            out += "<text x=\"\(f(X(t.value)))\" y=\"\(f(top + height + 15))\" text-anchor=\"middle\">\(escape(t.label))</text>\n"
        }
        for t in y {
            out += "<line x1=\"\(f(left - 4))\" y1=\"\(f(Y(t.value)))\" x2=\"\(f(left + width))\" y2=\"\(f(Y(t.value)))\" stroke=\"#e4e4e4\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(Y(t.value) + 3.5))\" text-anchor=\"end\">\(escape(t.label))</text>\n"
        }
        return out
    }
}
