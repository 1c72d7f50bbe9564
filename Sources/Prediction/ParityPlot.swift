import Foundation

/// SVG parity plots: predicted against true, one panel per quantity, with the y = x line, axis
/// ticks at round values, axis labels with units and R² printed in each panel.
public enum ParityPlot {
    public struct Panel: Sendable {
        public var title: String
        public var truth: [Double]
        public var predicted: [Double]
        /// Unit of both axes (e.g. `"kJ/mol"`, `"rel. to reference flux"`); empty for none.
        public var unit: String
        public init(title: String, truth: [Double], predicted: [Double], unit: String = "") {
            self.title = title
            self.truth = truth
            self.predicted = predicted
            self.unit = unit
        }

        /// Coefficient of determination 1 − SS_res/SS_tot of the plotted values (pairs where
        /// both are finite; their log10 on a log scale, where values ≤ 0 count as 1e-6), the
        /// R² printed in the panel; NaN when the truth is constant.
        public func r2(logScale: Bool = false) -> Double {
            let pairs = zip(truth, predicted).filter { $0.0.isFinite && $0.1.isFinite }
            func tr(_ v: Double) -> Double { logScale ? log10(max(v, 1e-6)) : v }
            return Evaluation.rSquared(pairs.map { tr($0.1) }, pairs.map { tr($0.0) })
        }
    }

    /// An SVG document with the panels in a grid (`columns` wide), at most `maxPoints` per panel,
    /// `title` (e.g. the dataset) and `subtitle` (e.g. what the units mean) above.
    public static func svg(_ panels: [Panel], columns: Int = 4, maxPoints: Int = 2000, logScale: Bool = false,
                           title: String? = nil, subtitle: String? = nil) -> String {
        let size = 250.0, padLeft = 52.0, padRight = 12.0, padTop = 26.0, padBottom = 44.0
        let head = (title == nil ? 0 : 28.0) + (subtitle == nil ? 0 : 18.0)
        let cols = max(1, min(columns, panels.count)), rows = (panels.count + cols - 1) / cols
        let f = SVGText.coordinate, esc = SVGText.escape
        let width = max(Double(cols) * size, 480, 6.2 * Double(subtitle?.count ?? 0) + 24, 8.6 * Double(title?.count ?? 0) + 24), height = Double(rows) * size + head
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="10">
            <rect width="100%" height="100%" fill="white"/>

            """
        if let title { out += "<text class=\"title\" x=\"\(f(width / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(esc(title))</text>\n" }
        if let subtitle { out += "<text x=\"\(f(width / 2))\" y=\"\(f(head - 6))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">\(esc(subtitle))</text>\n" }
        for (i, p) in panels.enumerated() {
            let ox = Double(i % cols) * size, oy = Double(i / cols) * size + head
            func tr(_ v: Double) -> Double { logScale ? log10(max(v, 1e-6)) : v }
            let pairs = zip(p.truth, p.predicted).filter { $0.0.isFinite && $0.1.isFinite }
            let values = pairs.flatMap { [tr($0.0), tr($0.1)] }
            var lo = values.min() ?? 0, hi = values.max() ?? 1
            if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
            let margin = 0.04 * (hi - lo)
            lo -= margin; hi += margin
            let span = hi - lo, w = size - padLeft - padRight, h = size - padTop - padBottom
            let x0 = ox + padLeft, y0 = oy + padTop
            func X(_ v: Double) -> Double { x0 + (v - lo) / span * w }
            func Y(_ v: Double) -> Double { y0 + h - (v - lo) / span * h }
            out += "<g class=\"panel\"><rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(w))\" height=\"\(f(h))\" fill=\"none\" stroke=\"#888\"/>\n"
            // Ticks at round values (decades and their fractions on a log scale).
            let ticks = SVGText.niceTicks(lo, hi, count: 5)
            let step = ticks.count > 1 ? ticks[1] - ticks[0] : max(abs(lo), 1)
            let labelled = ticks.map { t in
                (t, logScale ? String(format: t == t.rounded() ? "%g" : "%.2g", pow(10, t)) : SVGText.tick(t, step: step))
            }
            out += SVGText.axisTicks(x: labelled, y: labelled, X: X, Y: Y, left: x0, top: y0, width: w, height: h)
            out += "<line x1=\"\(f(X(lo)))\" y1=\"\(f(Y(lo)))\" x2=\"\(f(X(hi)))\" y2=\"\(f(Y(hi)))\" stroke=\"#c33\" stroke-width=\"1\"/>\n"
            out += "<text x=\"\(f(x0 + w / 2))\" y=\"\(f(oy + padTop - 8))\" text-anchor=\"middle\" font-size=\"11\">\(esc(p.title))</text>\n"
            let unit = p.unit.isEmpty ? "" : " (\(p.unit))"
            out += "<text x=\"\(f(x0 + w / 2))\" y=\"\(f(y0 + h + 30))\" text-anchor=\"middle\">true\(esc(unit))\(logScale ? ", log scale" : "")</text>\n"
            let ly = y0 + h / 2, lx = ox + 12
            out += "<text x=\"\(f(lx))\" y=\"\(f(ly))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(lx)) \(f(ly)))\">predicted\(esc(unit))</text>\n"
            let stride = max(1, pairs.count / maxPoints)
            for (k, (t, q)) in pairs.enumerated() where k % stride == 0 {
                out += "<circle cx=\"\(f(X(tr(t))))\" cy=\"\(f(Y(tr(q))))\" r=\"1.2\" fill=\"#1f5fa8\" fill-opacity=\"0.5\"/>\n"
            }
            let r2 = p.r2(logScale: logScale)
            out += "<text class=\"r2\" x=\"\(f(x0 + 6))\" y=\"\(f(y0 + 14))\" font-size=\"11\">R² = \(r2.isNaN ? "n/a" : String(format: "%.3f", r2))  (n = \(pairs.count))</text>\n"
            out += "</g>\n"
        }
        return out + "</svg>\n"
    }
}
