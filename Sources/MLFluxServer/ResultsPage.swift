import Foundation
import MLFluxCore
import MLFluxOutput
import Prediction

/// The results page of `POST /predict`: per sample, the chosen predictors side by side, each
/// with its flux table (net, exchange, ΔG with standard errors), the χ² verdict, notes and
/// warnings, the flux map (when a renderer is given), the measured-against-simulated MID plot
/// and downloads (CSV, JSON, SVG as data: URIs; nothing is stored).
enum ResultsPage {
    static func render(_ results: PredictionResults, fluxMap: FluxMapRenderer?) -> String {
        let bundle = results.model.bundle
        let network = bundle.network
        var b = "<h1>Fluxes of model \(HTML.escape(bundle.name))</h1>\n<p><a href=\"/\">New prediction</a></p>\n"
        for sample in results.samples {
            b += "<section><h2>\(sample.name.isEmpty ? "Result" : "Sample " + HTML.escape(sample.name))</h2>\n<div class=\"cols\">\n"
            for p in sample.predictions {
                let o = p.outcome
                b += "<div class=\"col\"><h3>\(HTML.escape(p.predictor)) <span class=\"note\">(\(String(format: "%.3g", o.seconds)) s)</span></h3>\n"
                b += verdict(o.fit)
                for n in o.notes { b += "<p class=\"note\">note: \(HTML.escape(n))</p>\n" }
                for w in o.warnings { b += "<p class=\"warn\">warning: \(HTML.escape(w))</p>\n" }
                b += fluxTable(o.prediction, network: network)
                // Flux map: the SVG drawn by `fluxMap` (MLFluxHTTPServer.fluxMap) goes here.
                let map = fluxMap?(bundle, p)
                if let map {
                    b += "<h4>Flux map</h4>\n<div class=\"fluxmap\">\(map)</div>\n"
                }
                let plot = MIDPlot.svg(measured: sample.measured, simulated: p.simulated)
                b += "<h4>Measured and simulated MIDs</h4>\n\(plot)\n"
                let stem = fileStem([bundle.name, sample.name, p.predictor])
                let json = (try? JSONOutput.string(p.document)) ?? "{}"
                b += "<p>"
                b += "<a class=\"dl\" download=\"\(HTML.escape(stem)).csv\" href=\"\(HTML.dataURI(PredictionOutput.csv(o.prediction, network: network), type: "text/csv"))\">fluxes.csv</a>"
                b += "<a class=\"dl\" download=\"\(HTML.escape(stem)).json\" href=\"\(HTML.dataURI(json + "\n", type: "application/json"))\">result.json</a>"
                b += "<a class=\"dl\" download=\"\(HTML.escape(stem))_mids.svg\" href=\"\(HTML.dataURI(plot, type: "image/svg+xml"))\">mid-plot.svg</a>"
                if let map {
                    b += "<a class=\"dl\" download=\"\(HTML.escape(stem))_map.svg\" href=\"\(HTML.dataURI(map, type: "image/svg+xml"))\">flux-map.svg</a>"
                }
                b += "</p></div>\n"
            }
            b += "</div></section>\n"
        }
        return HTML.page(title: "MLFlux: \(bundle.name)", body: b)
    }

    /// A download's file name: the parts joined by `_`, characters other than letters, digits,
    /// `-` and `_` replaced by `_`.
    static func fileStem(_ parts: [String]) -> String {
        let joined: String = parts.filter { !$0.isEmpty }.joined(separator: "_")
        return String(joined.map { (c: Character) -> Character in c.isLetter || c.isNumber || c == "-" || c == "_" ? c : "_" })
    }

    /// The χ² test in words (or the SSR when there is no test).
    static func verdict(_ fit: FitReport) -> String {
        guard let c = fit.chiSquared else {
            return "<p>fit: SSR \(String(format: "%.3e", fit.ssr)) over \(fit.residuals.count) MIDs (no χ² test)</p>\n"
        }
        let word = c.passes ? "<span class=\"pass\">passes</span>"
            : c.vssr > c.upper ? "<span class=\"fail\">fails (above the range: a poor fit, or σ too small)</span>"
            : "<span class=\"fail\">is below the range (the data scatter less than σ: exact data, or σ too large)</span>"
        return "<p>χ² test \(word): VSSR \(String(format: "%.4g", c.vssr)), \(c.degreesOfFreedom) degrees of freedom, 95 % range [\(String(format: "%.4g", c.lower)), \(String(format: "%.4g", c.upper))]</p>\n"
    }

    static func fluxTable(_ p: FluxPrediction, network: MetabolicNetwork) -> String {
        var t = "<table><tr><th>Reaction</th><th>Net</th><th>±SE</th><th>Exchange</th><th>±SE</th><th>ΔG kJ/mol</th><th>±SE</th></tr>\n"
        for (r, reaction) in network.reactions.enumerated() {
            let bi = network.isBidirectional[r]
            let cells = [p.net[r], p.netSE[r]] + (bi ? [p.exchange[r], p.exchangeSE[r], p.deltaG[r], p.deltaGSE[r]] : [])
            t += "<tr><td>\(HTML.escape(reaction.id))</td>" + cells.map { "<td class=\"n\">\(HTML.escape(PredictionOutput.num($0)))</td>" }.joined()
                + (bi ? "" : "<td></td><td></td><td></td><td></td>") + "</tr>\n"
        }
        return t + "</table>\n"
    }
}
