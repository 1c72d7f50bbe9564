import Foundation

/// An SVG line chart of a few series over a shared x axis, with ticks, axis labels and a
/// legend (e.g. a route's accuracy against the share of masked MID entries).
public enum LinePlot {
    /// One line: its name in the legend and its points (non-finite y values are skipped).
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    /// The chart; `xRange`/`yRange` fix the axes (default: the data's range), `ticks` per axis.
    public static func svg(title: String, xLabel: String, yLabel: String, series: [Series],
                           xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil, ticks: Int = 5) -> String {
        let width = 560.0, height = 360.0, left = 64.0, right = 150.0, top = 36.0, bottom = 52.0
        let xs = series.flatMap { $0.points.map(\.x) }.filter(\.isFinite)
        let ys = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        func range(_ v: [Double], _ fixed: ClosedRange<Double>?) -> (Double, Double) {
            if let fixed { return (fixed.lowerBound, fixed.upperBound) }
            var lo = v.min() ?? 0, hi = v.max() ?? 1
            if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
            return (lo, hi)
        }
        let (x0, x1) = range(xs, xRange), (y0, y1) = range(ys, yRange)
        let w = width - left - right, h = height - top - bottom
        func X(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * w }
        func Y(_ v: Double) -> Double { top + h - (v - y0) / (y1 - y0) * h }
        let colours = ["#1f5fa8", "#c33", "#2a8a3a", "#a86f1f", "#7a3fa8", "#333"]
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="20" text-anchor="middle" font-size="\(f(min(13, (width - 16) / (0.56 * Double(max(title.count, 1))))))">\(escape(title))</text>
            <rect x="\(f(left))" y="\(f(top))" width="\(f(w))" height="\(f(h))" fill="none" stroke="#888"/>

            """
        let xt = (0...ticks).map { x0 + (x1 - x0) * Double($0) / Double(ticks) }, yt = (0...ticks).map { y0 + (y1 - y0) * Double($0) / Double(ticks) }
        out += SVGText.axisTicks(x: xt.map { ($0, label($0)) }, y: yt.map { ($0, label($0)) }, X: X, Y: Y, left: left, top: top, width: w, height: h)
        out += "<text x=\"\(f(left + w / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        out += "<text x=\"16\" y=\"\(f(top + h / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(top + h / 2)))\">\(escape(yLabel))</text>\n"
        for (k, s) in series.enumerated() {
            let c = colours[k % colours.count]
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            if pts.count > 1 {
                out += "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"2\" points=\"\(pts.map { "\(f(X($0.x))),\(f(Y($0.y)))" }.joined(separator: " "))\"/>\n"
            }
            for p in pts { out += "<circle cx=\"\(f(X(p.x)))\" cy=\"\(f(Y(p.y)))\" r=\"3\" fill=\"\(c)\"/>\n" }
            let ly = top + 14 + Double(k) * 18
            out += "<line x1=\"\(f(left + w + 12))\" y1=\"\(f(ly - 4))\" x2=\"\(f(left + w + 32))\" y2=\"\(f(ly - 4))\" stroke=\"\(c)\" stroke-width=\"2\"/>"
            out += "<text x=\"\(f(left + w + 38))\" y=\"\(f(ly))\">\(escape(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    private static func f(_ x: Double) -> String { String(format: "%.1f", x) }
    private static func label(_ x: Double) -> String {
        let r = (x * 1000).rounded() / 1000
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
    private static func escape(_ s: String) -> String { SVGText.escape(s) }
}
