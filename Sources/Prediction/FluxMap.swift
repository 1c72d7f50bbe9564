import Foundation
import MLFluxCore

/// An SVG picture of a flux prediction on its network: pools as boxes, reactions as arrows.
///
/// Encoding:
/// - **Width** of a reaction's arrow: `max(minimumWidth, maximumWidth · |net| / reference)` px,
///   linear in |net flux| and none thinner than `minimumWidth`. `reference` is the largest |net|
///   of the reactions that move a pool of two or more atoms (the carbon backbone), drawn
///   `maximumWidth` wide; a reaction of single-atom pools only that carries more (a proton supply
///   `H_IN → H` of 1000, a CO₂ exchange of 490, against a glucose uptake of 1) is drawn
///   `maximumWidth` wide and says "width capped" in its tooltip. A reaction with several substrates or products
///   is drawn through a small junction; an efflux ends in a sink dot; side compounds are small grey
///   copies beside each of their reactions.
/// - **Direction**: arrowheads at the product side when net ≥ 0, at the substrate side when net < 0.
/// - **Exchange**: a bidirectional reaction whose exchange flux is at least `exchangeShown` of the
///   largest |net| gets a thin dashed line of its colour alongside its arrow.
/// - **Colour**: ΔG on a diverging scale centred at 0 kJ/mol, blue for ΔG < 0 (forward driven),
///   red for ΔG > 0, ±`deltaGLimit` at the ends (±∞ clamped to them); grey where ΔG is not
///   available (one-way reactions: uptakes, effluxes, declared irreversible).
/// - **Tooltips**: each reaction group has a `<title>` with net ± SE, exchange ± SE and ΔG ± SE.
///
/// Every reaction is one `<g class="reaction" data-reaction="ID">`, every pool one
/// `<g class="pool" data-pool="ID">`; the document has no `id` attributes, so several maps can
/// sit in one HTML page.
public enum FluxMap {
    /// Arrow widths in px (see the type's documentation).
    public static let minimumWidth = 1.5
    public static let maximumWidth = 12.0
    /// Exchange fluxes below this share of the largest |net| are not marked.
    public static let exchangeShown = 1e-3
    /// Colour of reactions without ΔG.
    public static let unavailableColour = "#9e9e9e"

    /// The map of `prediction` (in `network`'s reaction order) on `layout` (default: the automatic
    /// layout of `network`), with `title` (default: the network's name) above and a legend below.
    public static func svg(network: MetabolicNetwork, prediction: FluxPrediction, layout: FluxMapLayout? = nil,
                           title: String? = nil) -> String {
        precondition(prediction.net.count == network.reactions.count, "prediction and network differ")
        let layout = layout ?? FluxMapLayout(network: network)
        let largest = max(widthReference(network: network, net: prediction.net), 1e-300)
        let limit = deltaGLimit(prediction.deltaG)
        let left = 24.0, top = 64.0, legendHeight = 104.0
        let width = max(layout.width + left + 96, 780), mapLeft = left + max(0, (width - left - 96 - layout.width) / 2)
        let height = top + layout.height + 28 + legendHeight
        let c = SVGText.coordinate
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(c(width))" height="\(c(height))" viewBox="0 0 \(c(width)) \(c(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text class="title" x="\(c(width / 2))" y="24" text-anchor="middle" font-size="16" font-weight="bold">\(SVGText.escape(title ?? network.name))</text>
            <text x="\(c(width / 2))" y="44" text-anchor="middle" font-size="11" fill="#555">arrow width ∝ |net flux|, heads in the net direction, colour ΔG; hover a reaction for its values ± SE</text>
            <g class="map" transform="translate(\(c(mapLeft)) \(c(top)))">

            """
        var byReaction = [[Int]](repeating: [], count: network.reactions.count)
        for (k, e) in layout.edges.enumerated() { byReaction[e.reaction].append(k) }
        var labels = "<g class=\"reaction-labels\" font-size=\"10\" fill=\"#222\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">\n"
        for (j, reaction) in network.reactions.enumerated() {
            let (group, label) = reactionGroup(j, reaction: reaction, edges: byReaction[j], network: network, prediction: prediction,
                                               layout: layout, largest: largest, limit: limit)
            out += group
            labels += label
        }
        out += labels + "</g>\n"
        for n in layout.nodes {
            switch n.kind {
            case .pool(let p):
                let id = SVGText.escape(network.pools[p].id), input = network.isInput[p]
                out += "<g class=\"pool\" data-pool=\"\(id)\"><title>\(id)\(input ? " (input pool)" : "")</title>"
                out += "<rect class=\"pool-box\" x=\"\(c(n.minX))\" y=\"\(c(n.minY))\" width=\"\(c(n.width))\" height=\"\(c(n.height))\" rx=\"5\" fill=\"\(input ? "#eef3f8" : "white")\" stroke=\"#333\"\(input ? " stroke-dasharray=\"4 2\"" : "")/>"
                out += "<text x=\"\(c(n.center.x))\" y=\"\(c(n.center.y + 4))\" text-anchor=\"middle\">\(id)</text></g>\n"
            case .side(let p, let j):
                let id = SVGText.escape(network.pools[p].id)
                out += "<g class=\"side-compound\" data-pool=\"\(id)\"><title>\(id) (side compound of \(SVGText.escape(network.reactions[j].id)))</title>"
                out += "<rect x=\"\(c(n.minX))\" y=\"\(c(n.minY))\" width=\"\(c(n.width))\" height=\"\(c(n.height))\" rx=\"4\" fill=\"#f4f4f4\" stroke=\"#aaa\"/>"
                out += "<text x=\"\(c(n.center.x))\" y=\"\(c(n.center.y + 3.5))\" text-anchor=\"middle\" font-size=\"10\" font-style=\"italic\" fill=\"#555\">\(id)</text></g>\n"
            case .junction, .sink, .bend:
                continue
            }
        }
        out += "</g>\n"
        out += legend(y: top + layout.height + 28, width: width, largest: largest, limit: limit)
        return out + "</svg>\n"
    }

    /// Stroke width in px of a reaction with net flux `net` when the width reference is `largest`
    /// (capped at `maximumWidth`).
    public static func strokeWidth(net: Double, largest: Double) -> Double {
        guard net.isFinite, largest > 0 else { return minimumWidth }
        return min(maximumWidth, max(minimumWidth, maximumWidth * abs(net) / largest))
    }

    /// The |net| drawn `maximumWidth` wide: the largest of the reactions that move a pool of two
    /// or more atoms (all reactions when none does).
    public static func widthReference(network: MetabolicNetwork, net: [Double]) -> Double {
        let main = network.reactions.indices.filter { j in
            let r = network.reactions[j]
            return (r.substrates + r.products).contains { network.pool($0.pool)!.atomCount >= 2 }
        }
        let values = (main.isEmpty ? Array(network.reactions.indices) : main).map { abs(net[$0]) }.filter(\.isFinite)
        return values.max() ?? 0
    }

    /// Half-range of the ΔG colour scale in kJ/mol: the largest finite |ΔG| rounded up to 1, 2 or
    /// 5 × 10ᵏ (at least 1; 10 when no ΔG is finite).
    public static func deltaGLimit(_ deltaG: [Double]) -> Double {
        guard let m = deltaG.filter(\.isFinite).map(abs).max(), m > 0 else { return 10 }
        let magnitude = pow(10, log10(m).rounded(.down))
        let nice = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= m * (1 - 1e-12) }!
        return max(nice, 1)
    }

    /// Colour of `deltaG` (kJ/mol) on the diverging scale ±`limit`: `#rrggbb`, `unavailableColour` for NaN.
    public static func colour(deltaG: Double, limit: Double) -> String {
        guard !deltaG.isNaN else { return unavailableColour }
        let stops: [(Double, (Double, Double, Double))] = [
            (-1, (44, 123, 182)), (-0.5, (116, 173, 209)), (0, (214, 190, 76)), (0.5, (244, 109, 67)), (1, (215, 48, 39)),
        ]
        let t = min(1, max(-1, deltaG / limit))
        var k = 0
        while k < stops.count - 2 && t > stops[k + 1].0 { k += 1 }
        let (t0, a) = stops[k], (t1, b) = stops[k + 1]
        let f = (t - t0) / (t1 - t0)
        func mix(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * f).rounded()) }
        return String(format: "#%02x%02x%02x", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    // MARK: - Drawing

    private static func reactionGroup(_ j: Int, reaction: Reaction, edges: [Int], network: MetabolicNetwork,
                                      prediction: FluxPrediction, layout: FluxMapLayout, largest: Double, limit: Double) -> (group: String, label: String) {
        let c = SVGText.coordinate, v = { SVGText.value($0) }
        let net = prediction.net[j], w = strokeWidth(net: net, largest: largest)
        let bidirectional = network.isBidirectional[j]
        let colour = bidirectional ? colour(deltaG: prediction.deltaG[j], limit: limit) : unavailableColour
        let forward = !(net < 0)
        let exchange = bidirectional && prediction.exchange[j] >= exchangeShown * largest
        var tip = "\(reaction.id): net \(v(net)) ± \(v(prediction.netSE[j]))"
        if bidirectional {
            tip += "; xch \(v(prediction.exchange[j])) ± \(v(prediction.exchangeSE[j])); ΔG \(v(prediction.deltaG[j])) ± \(v(prediction.deltaGSE[j])) kJ/mol"
        } else {
            tip += " (one-way)"
        }
        if abs(net) > largest * (1 + 1e-9) { tip += " (width capped)" }
        var out = "<g class=\"reaction\" data-reaction=\"\(SVGText.escape(reaction.id))\"><title>\(SVGText.escape(tip))</title>\n"
        var labelAt: MapPoint?, labelNormal = MapPoint(x: 1, y: 0)
        for k in edges {
            let e = layout.edges[k]
            var route = clipped(e.points, from: layout.nodes[e.from], to: layout.nodes[e.to])
            let headAtEnd = forward && !isJunction(layout.nodes[e.to]), headAtStart = !forward && !isJunction(layout.nodes[e.from])
            let length = 5 + 1.1 * w, half = 2.5 + 0.8 * w
            var heads: [(MapPoint, MapPoint)] = []  // (tip, unit direction)
            if headAtEnd, let (p, d) = shorten(&route, atEnd: true, by: length * 0.85) { heads.append((p, d)) }
            if headAtStart, let (p, d) = shorten(&route, atEnd: false, by: length * 0.85) { heads.append((p, d)) }
            out += "<path class=\"flux\" d=\"\(pathData(route))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"\(c(w))\" stroke-linecap=\"round\"/>\n"
            if exchange {
                out += "<path class=\"exchange\" d=\"\(pathData(offset(route, by: w / 2 + 3)))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1\" stroke-dasharray=\"3 2\"/>\n"
            }
            for (p, d) in heads {
                let base = MapPoint(x: p.x - d.x * length, y: p.y - d.y * length)
                let a = MapPoint(x: base.x - d.y * half, y: base.y + d.x * half), b = MapPoint(x: base.x + d.y * half, y: base.y - d.x * half)
                out += "<path class=\"head\" d=\"M\(c(p.x)) \(c(p.y))L\(c(a.x)) \(c(a.y))L\(c(b.x)) \(c(b.y))Z\" fill=\"\(colour)\"/>\n"
            }
            if labelAt == nil && layout.reactionNode[j] == nil {
                // On the drawn curve: the middle bend point of a long edge, else the segment's middle.
                let m = route.count > 2 ? route.count / 2 : 1
                labelAt = route.count > 2 ? route[m] : midpoint(route)
                // Beside the edge: on its normal, the one pointing right (or up for a horizontal edge).
                let dx = route[m].x - route[m - 1].x, dy = route[m].y - route[m - 1].y, len = (dx * dx + dy * dy).squareRoot()
                if len > 0 {
                    var n = MapPoint(x: -dy / len, y: dx / len)
                    if n.x < -1e-9 || (abs(n.x) <= 1e-9 && n.y > 0) { n = MapPoint(x: -n.x, y: -n.y) }
                    labelNormal = n
                }
            }
        }
        if let r = layout.reactionNode[j] {
            let n = layout.nodes[r]
            if case .sink = n.kind {
                out += "<circle class=\"sink\" cx=\"\(c(n.center.x))\" cy=\"\(c(n.center.y))\" r=\"3\" fill=\"white\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>\n"
            } else {
                out += "<circle class=\"junction\" cx=\"\(c(n.center.x))\" cy=\"\(c(n.center.y))\" r=\"\(c(max(3.5, w / 2 + 1)))\" fill=\"\(colour)\"/>\n"
            }
            labelAt = n.center
        }
        var label = ""
        if let p = labelAt {
            // Junction labels to the right; edge labels along the normal, centred when it points up.
            let gap = max(6, w / 2 + 4), up = labelNormal.x < 0.5
            let x = p.x + labelNormal.x * gap, y = p.y + labelNormal.y * gap + (up ? -1 : 4)
            label = "<text data-reaction=\"\(SVGText.escape(reaction.id))\" x=\"\(c(x))\" y=\"\(c(y))\"\(up ? " text-anchor=\"middle\"" : "")>\(SVGText.escape(reaction.id))</text>\n"
        }
        return (out + "</g>\n", label)
    }

    private static func isJunction(_ n: FluxMapLayout.Node) -> Bool {
        if case .junction = n.kind { return true }
        return false
    }

    /// The route with its end points moved from the node centres to the node borders (2 px off).
    private static func clipped(_ points: [MapPoint], from a: FluxMapLayout.Node, to b: FluxMapLayout.Node) -> [MapPoint] {
        guard points.count >= 2 else { return points }
        var route = points
        func border(_ n: FluxMapLayout.Node, toward q: MapPoint) -> MapPoint {
            let dx = q.x - n.center.x, dy = q.y - n.center.y
            let hw = n.width / 2 + 2, hh = n.height / 2 + 2
            guard dx != 0 || dy != 0 else { return n.center }
            let s = min(dx == 0 ? .infinity : hw / abs(dx), dy == 0 ? .infinity : hh / abs(dy))
            return s >= 1 ? n.center : MapPoint(x: n.center.x + dx * s, y: n.center.y + dy * s)
        }
        route[0] = border(a, toward: route[1])
        route[route.count - 1] = border(b, toward: route[route.count - 2])
        return route
    }

    /// Pulls one end of `route` back by `by` px along its last segment, for an arrowhead; returns
    /// the former end point (the tip) and the unit direction into it.
    private static func shorten(_ route: inout [MapPoint], atEnd: Bool, by: Double) -> (MapPoint, MapPoint)? {
        guard route.count >= 2 else { return nil }
        let i = atEnd ? route.count - 1 : 0, prev = atEnd ? route.count - 2 : 1
        let tip = route[i], dx = tip.x - route[prev].x, dy = tip.y - route[prev].y
        let len = (dx * dx + dy * dy).squareRoot()
        guard len > 0 else { return nil }
        let d = MapPoint(x: dx / len, y: dy / len), cut = min(by, 0.8 * len)
        route[i] = MapPoint(x: tip.x - d.x * cut, y: tip.y - d.y * cut)
        return (tip, d)
    }

    /// SVG path data: a straight line for two points, a Catmull-Rom curve through more.
    private static func pathData(_ p: [MapPoint]) -> String {
        let c = SVGText.coordinate
        guard let first = p.first else { return "" }
        var d = "M\(c(first.x)) \(c(first.y))"
        if p.count == 2 { return d + "L\(c(p[1].x)) \(c(p[1].y))" }
        for i in 0..<(p.count - 1) {
            let p0 = p[max(i - 1, 0)], p1 = p[i], p2 = p[i + 1], p3 = p[min(i + 2, p.count - 1)]
            let c1 = MapPoint(x: p1.x + (p2.x - p0.x) / 6, y: p1.y + (p2.y - p0.y) / 6)
            let c2 = MapPoint(x: p2.x - (p3.x - p1.x) / 6, y: p2.y - (p3.y - p1.y) / 6)
            d += "C\(c(c1.x)) \(c(c1.y)) \(c(c2.x)) \(c(c2.y)) \(c(p2.x)) \(c(p2.y))"
        }
        return d
    }

    /// The route moved sideways by `by` px (to the right of its direction of travel).
    private static func offset(_ p: [MapPoint], by: Double) -> [MapPoint] {
        p.indices.map { i in
            let a = p[max(i - 1, 0)], b = p[min(i + 1, p.count - 1)]
            let dx = b.x - a.x, dy = b.y - a.y, len = max((dx * dx + dy * dy).squareRoot(), 1e-9)
            return MapPoint(x: p[i].x - dy / len * by, y: p[i].y + dx / len * by)
        }
    }

    /// The point halfway along the polyline.
    private static func midpoint(_ p: [MapPoint]) -> MapPoint {
        guard p.count >= 2 else { return p.first ?? MapPoint(x: 0, y: 0) }
        let lengths = (1..<p.count).map { i in ((p[i].x - p[i - 1].x) * (p[i].x - p[i - 1].x) + (p[i].y - p[i - 1].y) * (p[i].y - p[i - 1].y)).squareRoot() }
        var rest = lengths.reduce(0, +) / 2
        for (i, l) in lengths.enumerated() {
            if rest <= l && l > 0 {
                let f = rest / l
                return MapPoint(x: p[i].x + (p[i + 1].x - p[i].x) * f, y: p[i].y + (p[i + 1].y - p[i].y) * f)
            }
            rest -= l
        }
        return p[p.count - 1]
    }

    /// The legend: width scale, ΔG colour bar with ticks, exchange and input-pool markers.
    private static func legend(y: Double, width: Double, largest: Double, limit: Double) -> String {
        let c = SVGText.coordinate
        var out = "<g class=\"legend\" font-size=\"11\">\n<line x1=\"16\" y1=\"\(c(y - 8))\" x2=\"\(c(width - 16))\" y2=\"\(c(y - 8))\" stroke=\"#ccc\"/>\n"
        // Widths.
        out += "<text x=\"24\" y=\"\(c(y + 10))\" font-weight=\"bold\">|net flux| (network units)</text>\n"
        for (i, f) in [1.0, 0.5, 0.1].enumerated() {
            let ly = y + 28 + Double(i) * 20, w = strokeWidth(net: f * largest, largest: largest)
            out += "<line x1=\"24\" y1=\"\(c(ly))\" x2=\"64\" y2=\"\(c(ly))\" stroke=\"#555\" stroke-width=\"\(c(w))\"/>"
            out += "<text x=\"74\" y=\"\(c(ly + 4))\">\(SVGText.value(f * largest))</text>\n"
        }
        // ΔG colour bar.
        let bx = 210.0, bw = 200.0, by = y + 22
        out += "<text x=\"\(c(bx))\" y=\"\(c(y + 10))\" font-weight=\"bold\">ΔG (kJ/mol)</text>\n"
        let steps = 40
        for k in 0..<steps {
            let t = -limit + 2 * limit * (Double(k) + 0.5) / Double(steps)
            out += "<rect x=\"\(c(bx + bw * Double(k) / Double(steps)))\" y=\"\(c(by))\" width=\"\(c(bw / Double(steps) + 0.6))\" height=\"12\" fill=\"\(colour(deltaG: t, limit: limit))\"/>"
        }
        out += "\n"
        for t in [-limit, -limit / 2, 0, limit / 2, limit] {
            let tx = bx + bw * (t + limit) / (2 * limit)
            out += "<line x1=\"\(c(tx))\" y1=\"\(c(by + 12))\" x2=\"\(c(tx))\" y2=\"\(c(by + 17))\" stroke=\"#333\"/>"
            out += "<text x=\"\(c(tx))\" y=\"\(c(by + 29))\" text-anchor=\"middle\">\(SVGText.tick(t, step: limit / 2))</text>\n"
        }
        out += "<rect x=\"\(c(bx + bw + 14))\" y=\"\(c(by))\" width=\"16\" height=\"12\" fill=\"\(unavailableColour)\"/>"
        out += "<text x=\"\(c(bx + bw + 34))\" y=\"\(c(by + 10))\">n/a (one-way)</text>\n"
        out += "<text x=\"\(c(bx))\" y=\"\(c(by + 46))\" fill=\"#555\">blue: forward driven (ΔG &lt; 0); ±∞ at the ends</text>\n"
        // Markers.
        let mx = bx + bw + 130
        out += "<line x1=\"\(c(mx))\" y1=\"\(c(y + 28))\" x2=\"\(c(mx + 40))\" y2=\"\(c(y + 28))\" stroke=\"#555\" stroke-width=\"4\"/>"
        out += "<line x1=\"\(c(mx))\" y1=\"\(c(y + 35))\" x2=\"\(c(mx + 40))\" y2=\"\(c(y + 35))\" stroke=\"#555\" stroke-width=\"1\" stroke-dasharray=\"3 2\"/>"
        out += "<text x=\"\(c(mx + 48))\" y=\"\(c(y + 34))\">dashed: exchange flux</text>\n"
        out += "<rect x=\"\(c(mx))\" y=\"\(c(y + 48))\" width=\"40\" height=\"16\" rx=\"4\" fill=\"#eef3f8\" stroke=\"#333\" stroke-dasharray=\"4 2\"/>"
        out += "<text x=\"\(c(mx + 48))\" y=\"\(c(y + 60))\">input pool</text>\n"
        return out + "</g>\n"
    }
}
