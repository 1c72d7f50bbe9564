@testable import FluxML
import Foundation
import MLFluxCore
@testable import Prediction
import Testing
import TestSupport

/// Every element of an XML tree, depth first.
private func allElements(_ e: FluxML.XMLElement) -> [FluxML.XMLElement] { [e] + e.children.flatMap(allElements) }

/// The toy network with the state of `Plugins/toy/fluxes.json` (v1 1, v2 0.6 ⇄ 0.5, v3 0.2, …)
/// as a prediction, from its free fluxes v1.net = 1, v3.net = 0.2, v2.xch = 0.5.
private func toyPrediction() throws -> (MetabolicNetwork, FluxPrediction) {
    let net = try toyNetwork()
    let basis = try FreeFluxBasis(network: net, preferFree: ["v1.net", "v3.net", "v2.xch"])
    let p = FluxPrediction(free: [1, 0.2, 0.5], freeSE: [0, 0.01, 0.02], basis: basis, network: net)
    return (net, p)
}

/// The reaction groups of a map by reaction id, and the pool boxes by pool id (map coordinates).
private struct ParsedMap {
    var root: FluxML.XMLElement
    var reactions: [String: [FluxML.XMLElement]] = [:]
    var poolBoxes: [String: (x: Double, y: Double, w: Double, h: Double)] = [:]
    /// Side-compound copies and junction/sink circles, as boxes.
    var otherBoxes: [(id: String, x: Double, y: Double, w: Double, h: Double)] = []
    var offset = (x: 0.0, y: 0.0)

    init(_ svg: String) throws {
        root = try XMLTreeParser.parse(svg, fileName: "map.svg")
        for e in allElements(root) where e.name == "g" {
            func child(_ n: String) -> FluxML.XMLElement? { e.children.first { $0.name == n } }
            if e.attribute("class") == "map", let t = e.attribute("transform") {
                let v = t.dropFirst("translate(".count).dropLast().split(separator: " ").compactMap { Double($0) }
                offset = (v[0], v[1])
            }
            if e.attribute("class") == "reaction", let id = e.attribute("data-reaction") { reactions[id, default: []].append(e) }
            if e.attribute("class") == "pool", let id = e.attribute("data-pool"), let r = child("rect") {
                poolBoxes[id] = (Double(r.attribute("x")!)!, Double(r.attribute("y")!)!, Double(r.attribute("width")!)!, Double(r.attribute("height")!)!)
            }
            if e.attribute("class") == "side-compound", let id = e.attribute("data-pool"), let r = child("rect") {
                otherBoxes.append((id, Double(r.attribute("x")!)!, Double(r.attribute("y")!)!, Double(r.attribute("width")!)!, Double(r.attribute("height")!)!))
            }
            if e.attribute("class") == "reaction", let id = e.attribute("data-reaction") {
                for c in e.children where c.name == "circle" {
                    let x = Double(c.attribute("cx")!)!, y = Double(c.attribute("cy")!)!, r = Double(c.attribute("r")!)!
                    otherBoxes.append((id, x - r, y - r, 2 * r, 2 * r))
                }
            }
        }
    }

    func fluxPaths(_ reaction: String) -> [FluxML.XMLElement] {
        (reactions[reaction]?.first?.children ?? []).filter { $0.name == "path" && $0.attribute("class") == "flux" }
    }
    func width(_ reaction: String) -> Double { Double(fluxPaths(reaction)[0].attribute("stroke-width")!)! }
    func colour(_ reaction: String) -> String { fluxPaths(reaction)[0].attribute("stroke")! }
    /// The tip (first point) of each arrowhead of `reaction`.
    func tips(_ reaction: String) -> [(Double, Double)] {
        (reactions[reaction]?.first?.children ?? []).filter { $0.attribute("class") == "head" }.map { head in
            let nums = head.attribute("d")!.dropFirst().split(separator: "L")[0].split(separator: " ").map { Double($0)! }
            return (nums[0], nums[1])
        }
    }
    func distance(_ p: (Double, Double), toPool id: String) -> Double {
        let b = poolBoxes[id]!
        return hypot(p.0 - (b.x + b.w / 2), p.1 - (b.y + b.h / 2))
    }
}

@Suite struct FluxMapTests {
    @Test func toyMapIsXMLWithEachReactionAndPoolOnce() throws {
        let (net, p) = try toyPrediction()
        let svg = FluxMap.svg(network: net, prediction: p, title: "toy <test>")
        let map = try ParsedMap(svg)
        #expect(map.root.name == "svg")
        #expect(Set(map.reactions.keys) == Set(net.reactions.map(\.id)))
        #expect(map.reactions.values.allSatisfy { $0.count == 1 })
        #expect(Set(map.poolBoxes.keys) == Set(net.pools.map(\.id)))
        #expect(allElements(map.root).contains { $0.attribute("class") == "title" && $0.text == "toy <test>" })
        // Tooltips carry net ± SE (v3: 0.2 ± 0.01, its own free flux).
        let tip = map.reactions["v3"]![0].children.first { $0.name == "title" }!.text
        #expect(tip.contains("net 0.2 ± 0.01"), "\(tip)")
        #expect(tip.contains("xch") && tip.contains("kJ/mol"))
    }

    @Test func widthsAreProportionalToNetFlux() throws {
        let (net, p) = try toyPrediction()
        #expect(abs(p.net[net.reactionIndex["v2"]!] - 0.6) < 1e-12)
        let map = try ParsedMap(FluxMap.svg(network: net, prediction: p))
        // Largest |net| is v1 = 1: drawn maximumWidth wide; v2 0.6 and v3 0.2 in ratio 3.
        #expect(abs(map.width("v1") - FluxMap.maximumWidth) < 0.051)
        #expect(abs(map.width("v2") - 0.6 * FluxMap.maximumWidth) < 0.051)
        #expect(abs(map.width("v2") / map.width("v3") - 3) < 0.05)
        // Below the minimum: drawn at the minimum width.
        #expect(FluxMap.strokeWidth(net: 1e-6, largest: 1) == FluxMap.minimumWidth)
        // Exchange flux of v2 (0.5) is marked; v1 (one-way) has none.
        #expect(map.reactions["v2"]![0].children.contains { $0.attribute("class") == "exchange" })
        #expect(!map.reactions["v1"]![0].children.contains { $0.attribute("class") == "exchange" })
    }

    @Test func arrowheadFollowsTheSignOfNet() throws {
        var (net, p) = try toyPrediction()
        let v2 = net.reactionIndex["v2"]!  // molB → molD
        let forward = try ParsedMap(FluxMap.svg(network: net, prediction: p))
        let tip = try #require(forward.tips("v2").first)
        #expect(forward.tips("v2").count == 1)
        #expect(forward.distance(tip, toPool: "molD") < forward.distance(tip, toPool: "molB"))
        p.net[v2] = -0.6
        let backward = try ParsedMap(FluxMap.svg(network: net, prediction: p))
        let tip2 = try #require(backward.tips("v2").first)
        #expect(backward.distance(tip2, toPool: "molB") < backward.distance(tip2, toPool: "molD"))
        net = try toyNetwork()
    }

    @Test func deltaGColours() throws {
        var (net, p) = try toyPrediction()
        net = try toyNetwork()
        p.deltaG[net.reactionIndex["v2"]!] = -8
        p.deltaG[net.reactionIndex["v3"]!] = 8
        let map = try ParsedMap(FluxMap.svg(network: net, prediction: p))
        func rgb(_ hex: String) -> (Int, Int, Int) {
            let v = Int(hex.dropFirst(), radix: 16)!
            return (v >> 16, (v >> 8) & 255, v & 255)
        }
        #expect(map.colour("v1") == FluxMap.unavailableColour)  // one-way: ΔG NaN
        let neg = rgb(map.colour("v2")), pos = rgb(map.colour("v3"))
        #expect(neg.2 > neg.0 && pos.0 > pos.2, "ΔG < 0 blue, > 0 red: \(neg) \(pos)")
        #expect(FluxMap.colour(deltaG: .nan, limit: 10) == FluxMap.unavailableColour)
        #expect(FluxMap.colour(deltaG: 0, limit: 10) != FluxMap.unavailableColour)
        #expect(FluxMap.colour(deltaG: -.infinity, limit: 10) == FluxMap.colour(deltaG: -10, limit: 10))
        #expect(FluxMap.deltaGLimit([-8, 3, .nan, .infinity]) == 10)
        #expect(FluxMap.deltaGLimit([0.3]) == 1)
    }

    @Test(arguments: ["toy", "glycolysis", "glyppp", "ccm"])
    func layoutHasNoOverlapsAndStaysOnTheCanvas(_ name: String) throws {
        let net = try loadNetwork(name)
        let layout = FluxMapLayout(network: net)
        let boxes = layout.nodes.filter { $0.kind != .bend }
        for i in boxes.indices {
            for k in boxes.indices where k > i {
                #expect(!FluxMapLayout.overlap(boxes[i], boxes[k]), "\(name): \(boxes[i].kind) overlaps \(boxes[k].kind)")
            }
        }
        // Every pool box inside the SVG canvas.
        let basis = try FreeFluxBasis(network: net)
        let p = FluxPrediction(free: [Double](repeating: 0.1, count: basis.count), freeSE: [Double](repeating: 0, count: basis.count),
                               basis: basis, network: net)
        let svg = FluxMap.svg(network: net, prediction: p, layout: layout)
        let map = try ParsedMap(svg)
        let w = Double(map.root.attribute("width")!)!, h = Double(map.root.attribute("height")!)!
        // Every pool drawn: once as a box, or as side-compound copies beside its reactions.
        let side = FluxMapLayout.sideCompounds(net)
        #expect(Set(map.poolBoxes.keys) == Set(net.pools.indices.filter { !side.contains($0) }.map { net.pools[$0].id }))
        #expect(Set(map.otherBoxes.map(\.id)).isSuperset(of: side.map { net.pools[$0].id }))
        #expect(name != "toy" || side.isEmpty)
        let all: [(String, Double, Double, Double, Double)] = map.poolBoxes.map { ($0.key, $0.value.x, $0.value.y, $0.value.w, $0.value.h) }
            + map.otherBoxes.map { ($0.id, $0.x, $0.y, $0.w, $0.h) }
        for (id, bx, by, bw, bh) in all {
            let x = bx + map.offset.x, y = by + map.offset.y
            #expect(x >= 0 && y >= 0 && x + bw <= w && y + bh <= h, "\(name): \(id) off the canvas")
        }
        #expect(Set(map.reactions.keys).count == net.reactions.count)
    }

    @Test func pinnedPoolsStayAndOthersAreAutoPlaced() throws {
        let net = try toyNetwork()
        let pinned = FluxMapCoordinates(pools: ["molA": MapPoint(x: 100, y: 0), "molF": MapPoint(x: 100, y: 400)])
        let layout = FluxMapLayout(network: net, pinned: pinned)
        let a = try #require(layout.node(pool: net.poolIndex["molA"]!)).center, f = try #require(layout.node(pool: net.poolIndex["molF"]!)).center
        #expect(abs((f.y - a.y) - 400) < 1e-9 && abs(f.x - a.x) < 1e-9)
        let boxes = layout.nodes
        for i in boxes.indices { for k in boxes.indices where k > i { #expect(!FluxMapLayout.overlap(boxes[i], boxes[k])) } }
    }
}

@Suite struct ParityPlotTests {
    @Test func r2TicksAndTitle() throws {
        // Hand computation: mean truth 2.5, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5,
        // SS_res = 0.01 + 0.01 + 0.04 + 0.04 = 0.1, R² = 1 − 0.1/5 = 0.98.
        let panel = ParityPlot.Panel(title: "v2 net", truth: [1, 2, 3, 4], predicted: [1.1, 1.9, 3.2, 3.8], unit: "rel. to reference flux")
        #expect(abs(panel.r2() - 0.98) < 1e-12)
        let svg = ParityPlot.svg([panel], title: "toy on dataset test-set")
        let root = try XMLTreeParser.parse(svg, fileName: "parity.svg")
        let texts = allElements(root).filter { $0.name == "text" }.map(\.text)
        #expect(texts.contains { $0.hasPrefix("R² = 0.980") })
        #expect(texts.contains("toy on dataset test-set"))
        #expect(texts.contains("true (rel. to reference flux)"))
        // Round ticks over the padded range [0.88, 4.12]: 1, 2, 3, 4 on each axis.
        for t in ["1", "2", "3", "4"] { #expect(texts.filter { $0 == t }.count == 2, "tick \(t)") }
        #expect(SVGText.niceTicks(0, 1, count: 5) == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        // Range 59 in about 4 steps: 14.75 rounds up to a step of 20.
        #expect(SVGText.niceTicks(-12, 47, count: 4) == [0, 20, 40])
    }
}
