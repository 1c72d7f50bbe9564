/// SVG parity plots: predicted against true, one panel per quantity, with the y = x line.
public enum ParityPlot {
    public struct Panel: Sendable {
        public var title: String
        public var truth: [Double]
        public var predicted: [Double]
        public init(title: String, truth: [Double], predicted: [Double]) {
            self.title = title
            self.truth = truth
            self.predicted = predicted
        }
    }

    /// An SVG document with the panels in a grid (`columns` wide), at most `maxPoints` per panel.
    public static func svg(_ panels: [Panel], columns: Int = 4, maxPoints: Int = 2000, logScale: Bool = false) -> String {
        let size = 220.0, pad = 34.0
        let cols = max(1, min(columns, panels.count)), rows = (panels.count + cols - 1) / cols
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Double(cols) * size))" height="\(Int(Double(rows) * size))" font-family="sans-serif" font-size="10">
            <rect width="100%" height="100%" fill="white"/>

            """
        for (i, p) in panels.enumerated() {
            let ox = Double(i % cols) * size, oy = Double(i / cols) * size
            func tr(_ v: Double) -> Double { logScale ? log10(max(v, 1e-6)) : v }
            let pairs = zip(p.truth, p.predicted).filter { $0.0.isFinite && $0.1.isFinite }
            let values = pairs.flatMap { [tr($0.0), tr($0.1)] }
            var lo = values.min() ?? 0, hi = values.max() ?? 1
            if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
            let span = hi - lo, w = size - 2 * pad
            func X(_ v: Double) -> Double { ox + pad + (tr(v) - lo) / span * w }
            func Y(_ v: Double) -> Double { oy + size - pad - (tr(v) - lo) / span * w }
            out += "<g><rect x=\"\(f(ox + pad))\" y=\"\(f(oy + pad))\" width=\"\(f(w))\" height=\"\(f(w))\" fill=\"none\" stroke=\"#888\"/>\n"
            out += "<line x1=\"\(f(ox + pad))\" y1=\"\(f(oy + size - pad))\" x2=\"\(f(ox + size - pad))\" y2=\"\(f(oy + pad))\" stroke=\"#c33\" stroke-width=\"1\"/>\n"
            out += "<text x=\"\(f(ox + size / 2))\" y=\"\(f(oy + pad - 8))\" text-anchor=\"middle\" font-size=\"11\">\(escape(p.title))</text>\n"
            out += "<text x=\"\(f(ox + size / 2))\" y=\"\(f(oy + size - 8))\" text-anchor=\"middle\">true\(logScale ? " (log10)" : "")  [\(g(lo)), \(g(hi))]</text>\n"
            out += "<text x=\"\(f(ox + 10))\" y=\"\(f(oy + size / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(ox + 10)) \(f(oy + size / 2)))\">predicted</text>\n"
            let stride = max(1, pairs.count / maxPoints)
            for (k, (t, q)) in pairs.enumerated() where k % stride == 0 {
                out += "<circle cx=\"\(f(X(t)))\" cy=\"\(f(Y(q)))\" r=\"1.2\" fill=\"#1f5fa8\" fill-opacity=\"0.5\"/>\n"
            }
            out += "</g>\n"
        }
        return out + "</svg>\n"
    }

    private static func f(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
    private static func g(_ x: Double) -> String {
        let m = abs(x)
        if m != 0 && (m < 1e-3 || m >= 1e4) { return String(format3: x) }
        return String((x * 1000).rounded() / 1000)
    }
    private static func escape(_ s: String) -> String {
        s.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll(">", "&gt;")
    }
}

extension String {
    init(format3 x: Double) {
        let e = Int(log10(abs(x)).rounded(.down))
        let m = x / pow(10, Double(e))
        self = "\((m * 100).rounded() / 100)e\(e)"
    }
    func replacingAll(_ a: String, _ b: String) -> String { split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
