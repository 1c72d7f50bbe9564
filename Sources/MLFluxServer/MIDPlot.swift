import Foundation
import MLFluxCore

/// Measured against simulated MIDs as an SVG bar chart: one panel per measured
/// (experiment, metabolite), two bars per isotopologue (measured dark, simulated light),
/// fractions on a 0–1 axis.
enum MIDPlot {
    static let columns = 4
    static let panelWidth = 210.0, panelHeight = 130.0

    /// - Parameters:
    ///   - simulated: MIDs in `measured.layout`'s order (`SimulatedLabeling.values`).
    static func svg(measured: MeasuredLabeling, simulated: [Double]) -> String {
        let layout = measured.layout
        var panels: [(title: String, measured: [Double], simulated: [Double])] = []
        for e in layout.experimentIDs.indices {
            for f in layout.fragmentNames.indices {
                let start = e * layout.blockSize + layout.offsets[f]
                let range = start..<(start + layout.isotopologues[f])
                guard range.contains(where: { measured.mask[$0] }) else { continue }
                panels.append(("\(layout.experimentIDs[e]) · \(layout.fragmentNames[f])",
                               range.map { measured.mask[$0] ? measured.values[$0] : .nan },
                               range.map { $0 < simulated.count ? simulated[$0] : .nan }))
            }
        }
        let rows = (panels.count + columns - 1) / columns
        let width = Double(min(columns, max(panels.count, 1))) * panelWidth
        let height = Double(rows) * panelHeight + 24
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" height=\"\(f(height))\" font-family=\"sans-serif\" font-size=\"10\" role=\"img\" aria-label=\"measured and simulated MIDs\">\n"
        s += "<rect x=\"4\" y=\"6\" width=\"10\" height=\"10\" fill=\"#1f4e79\"/><text x=\"18\" y=\"15\">measured</text>"
        s += "<rect x=\"80\" y=\"6\" width=\"10\" height=\"10\" fill=\"#f0a030\"/><text x=\"94\" y=\"15\">simulated from the predicted fluxes</text>\n"
        for (i, p) in panels.enumerated() {
            let x0 = Double(i % columns) * panelWidth, y0 = 24 + Double(i / columns) * panelHeight
            let left = x0 + 30, right = x0 + panelWidth - 8, top = y0 + 18, bottom = y0 + panelHeight - 22
            s += "<g><text x=\"\(f(x0 + 30))\" y=\"\(f(y0 + 12))\" font-weight=\"bold\">\(HTML.escape(p.title))</text>\n"
            for tick in [0.0, 0.5, 1.0] {
                let y = bottom - tick * (bottom - top)
                s += "<line x1=\"\(f(left))\" x2=\"\(f(right))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#ccc\"/><text x=\"\(f(left - 4))\" y=\"\(f(y + 3))\" text-anchor=\"end\">\(tick == 0.5 ? "0.5" : tick == 0 ? "0" : "1")</text>\n"
            }
            let n = Double(p.measured.count)
            let slot = (right - left) / max(n, 1), bar = min(slot * 0.38, 14)
            for k in p.measured.indices {
                let cx = left + (Double(k) + 0.5) * slot
                for (j, (v, colour)) in [(p.measured[k], "#1f4e79"), (p.simulated[k], "#f0a030")].enumerated() where v.isFinite {
                    let h = max(0, min(1, v)) * (bottom - top)
                    let x = cx - bar + Double(j) * bar
                    s += "<rect x=\"\(f(x))\" y=\"\(f(bottom - h))\" width=\"\(f(bar))\" height=\"\(f(h))\" fill=\"\(colour)\"><title>M+\(k) \(j == 0 ? "measured" : "simulated") \(String(format: "%.4f", v))</title></rect>\n"
                }
                s += "<text x=\"\(f(cx))\" y=\"\(f(bottom + 12))\" text-anchor=\"middle\">M+\(k)</text>\n"
            }
            s += "</g>\n"
        }
        return s + "</svg>"
    }

    private static func f(_ x: Double) -> String { String(format: "%.1f", x) }
}
