import MLFluxCore

/// A point of a flux map in SVG user units (x to the right, y down).
public struct MapPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// Coordinates a model bundle gives for its map (its `map.json`, read by `ModelBundle.mapCoordinates()`):
/// pool centres and, optionally, the centres of reaction junctions (the small node a reaction with
/// several substrates or products is drawn through). SVG user units, x right, y down.
public struct FluxMapCoordinates: Sendable, Equatable {
    public var pools: [String: MapPoint]
    public var reactions: [String: MapPoint]
    public init(pools: [String: MapPoint], reactions: [String: MapPoint] = [:]) {
        self.pools = pools
        self.reactions = reactions
    }
}

/// Where each pool and reaction of a network is drawn on a flux map.
///
/// Nodes are the pools (boxes), one junction per reaction with several substrates or products
/// (or a pool on both sides), one sink per efflux (a reaction without product), and, in the
/// automatic layout, bend points of edges that span several layers. Edges run from the substrate
/// side to the product side of their reaction (`from` → `to`), whatever the sign of its flux.
///
/// The automatic layout is layered (Sugiyama): edges that close a cycle (found by depth-first
/// search from the input pools, e.g. the TCA cycle's return to oxaloacetate) are reversed for
/// layering only; layers are longest paths from the sources (sources then pulled down next to
/// their first consumer); long edges get one bend point per crossed layer; the order within each
/// layer comes from barycentre sweeps (the sweep with the fewest crossings is kept); x positions
/// are the least-squares fit to the neighbours' mean x under the minimum gaps (isotonic
/// regression), so boxes of one layer never overlap and layers are `layerGap` apart.
/// Layers run top to bottom.
///
/// With `pinned` coordinates the pinned pools and junctions sit where given; the other pools go
/// to the mean of their placed neighbours, junctions to the mean of their participants, each then
/// moved to the nearest free spot; edges are straight.
/// - Complexity: O(S·E²) for S sweeps over E edges (crossing counts), fine for a few hundred reactions.
public struct FluxMapLayout: Sendable {
    public enum NodeKind: Sendable, Equatable {
        /// Pool index in `network.pools`.
        case pool(Int)
        /// Junction of the reaction with this index.
        case junction(Int)
        /// End point of the efflux with this reaction index.
        case sink(Int)
        /// A copy of the side compound with pool index `pool` beside the reaction with index
        /// `reaction` (see `sideCompounds`).
        case side(pool: Int, reaction: Int)
        /// A bend point of a long edge.
        case bend
    }

    public struct Node: Sendable {
        public var kind: NodeKind
        public var center: MapPoint
        public var width: Double
        public var height: Double
        /// Room kept free right of the box for the reaction label of a junction or sink.
        public var labelRoom: Double = 0
        public var minX: Double { center.x - width / 2 }
        public var maxX: Double { center.x + width / 2 }
        public var minY: Double { center.y - height / 2 }
        public var maxY: Double { center.y + height / 2 }
    }

    public struct Edge: Sendable {
        /// Reaction index in `network.reactions`.
        public var reaction: Int
        /// Node indices: `from` on the substrate side, `to` on the product side.
        public var from: Int
        public var to: Int
        /// The route from the centre of `from` to the centre of `to`, through its bend points.
        public var points: [MapPoint]
    }

    public private(set) var nodes: [Node]
    public private(set) var edges: [Edge]
    /// Extent of all nodes: every node box lies in [0, width] × [0, height].
    public private(set) var width: Double
    public private(set) var height: Double
    /// Node index of each pool (nil for side compounds, drawn as copies beside each of their
    /// reactions), and of each reaction's junction or sink (nil: drawn as a direct edge).
    public let poolNode: [Int?]
    public let reactionNode: [Int?]

    /// Vertical distance between layers; horizontal gap between boxes of one layer.
    public static let layerGap = 62.0
    public static let nodeGap = 26.0
    /// Box height of a pool; its width fits the id at 12 px sans-serif.
    public static let poolHeight = 22.0
    /// Width of a pool box for `id`.
    public static func poolWidth(_ id: String) -> Double { max(34, 7.4 * Double(id.count) + 14) }

    /// Box height of a side-compound copy.
    public static let sideHeight = 16.0

    /// Pools drawn as side compounds: a small copy beside each reaction instead of one box with
    /// long edges to all of them. These are the pools without carbon (hydrogen carriers traced for
    /// ²H: H⁺, NADH, NADPH), single-atom pools in four or more reactions (CO₂), and single-atom
    /// pools that react only with those (the CO₂ supply `CO2_IN`), unless `pinned` places them.
    public static func sideCompounds(_ network: MetabolicNetwork, pinned: FluxMapCoordinates? = nil) -> Set<Int> {
        var reactionsOf = [[Int]](repeating: [], count: network.pools.count)
        for (j, r) in network.reactions.enumerated() {
            for p in Set((r.substrates + r.products).map(\.pool)) { reactionsOf[network.poolIndex[p]!].append(j) }
        }
        let free = network.pools.indices.filter { pinned?.pools[network.pools[$0].id] == nil }
        var side = Set(free.filter { p in
            network.pools[p].carbons == 0 || (network.pools[p].atomCount == 1 && reactionsOf[p].count >= 4)
        })
        for p in free where network.pools[p].atomCount == 1 && !side.contains(p) {
            let partners = reactionsOf[p].flatMap { j in (network.reactions[j].substrates + network.reactions[j].products).map { network.poolIndex[$0.pool]! } }
            if partners.contains(where: { $0 != p }) && partners.allSatisfy({ $0 == p || side.contains($0) }) { side.insert(p) }
        }
        return side
    }

    /// The layout of `network`: automatic, or around `pinned` coordinates when given.
    public init(network: MetabolicNetwork, pinned: FluxMapCoordinates? = nil) {
        let side = Self.sideCompounds(network, pinned: pinned)
        var nodes: [Node] = []
        var poolNode = [Int?](repeating: nil, count: network.pools.count)
        for (p, pool) in network.pools.enumerated() where !side.contains(p) {
            poolNode[p] = nodes.count
            nodes.append(Node(kind: .pool(p), center: MapPoint(x: 0, y: 0), width: Self.poolWidth(pool.id), height: Self.poolHeight))
        }
        var reactionNode = [Int?](repeating: nil, count: network.reactions.count)
        var edges: [Edge] = []
        for (j, r) in network.reactions.enumerated() {
            func unique(_ parts: [ReactionParticipant]) -> [Int] {
                var seen: [Int] = [], copies: [Int: Int] = [:]
                for part in parts {
                    let p = network.poolIndex[part.pool]!
                    let v: Int
                    if let main = poolNode[p] { v = main } else if let c = copies[p] { v = c } else {
                        v = nodes.count
                        copies[p] = v
                        nodes.append(Node(kind: .side(pool: p, reaction: j), center: MapPoint(x: 0, y: 0),
                                          width: 0.8 * Self.poolWidth(network.pools[p].id), height: Self.sideHeight))
                    }
                    if !seen.contains(v) { seen.append(v) }
                }
                return seen
            }
            let subs = unique(r.substrates), prods = unique(r.products)
            if subs.count == 1 && prods.count == 1 && subs[0] != prods[0] {
                edges.append(Edge(reaction: j, from: subs[0], to: prods[0], points: []))
                continue
            }
            let n = nodes.count
            nodes.append(Node(kind: prods.isEmpty ? .sink(j) : .junction(j), center: MapPoint(x: 0, y: 0), width: 10, height: 10,
                              labelRoom: 8 + 6 * Double(r.id.count)))
            reactionNode[j] = n
            for s in subs { edges.append(Edge(reaction: j, from: s, to: n, points: [])) }
            for p in prods { edges.append(Edge(reaction: j, from: n, to: p, points: [])) }
        }
        self.nodes = nodes
        self.edges = edges
        self.poolNode = poolNode
        self.reactionNode = reactionNode
        self.width = 0
        self.height = 0
        if let pinned, !(pinned.pools.isEmpty && pinned.reactions.isEmpty) {
            placeAroundPinned(pinned, network: network)
        } else {
            placeLayered(network: network)
        }
        normalise()
    }

    /// The box of the pool with this index (nil for a side compound).
    public func node(pool index: Int) -> Node? { poolNode[index].map { nodes[$0] } }

    // MARK: - Layered layout

    private mutating func placeLayered(network: MetabolicNetwork) {
        let n = nodes.count
        var successors = [[Int]](repeating: [], count: n)
        for e in edges { successors[e.from].append(e.to) }
        // Cycle breaking: DFS from the input pools, then from every node still unvisited.
        var state = [UInt8](repeating: 0, count: n)  // 0 new, 1 on stack, 2 done
        var reversed = [Bool](repeating: false, count: edges.count)
        var edgeIndex: [[Int]] = [[Int]](repeating: [], count: n)
        for (k, e) in edges.enumerated() { edgeIndex[e.from].append(k) }
        let starts = network.pools.indices.compactMap { network.isInput[$0] ? poolNode[$0] : nil } + Array(0..<n)
        for s in starts where state[s] == 0 {
            var stack: [(node: Int, next: Int)] = [(s, 0)]
            state[s] = 1
            while let top = stack.last {
                if top.next < edgeIndex[top.node].count {
                    stack[stack.count - 1].next += 1
                    let k = edgeIndex[top.node][top.next], v = edges[k].to
                    if state[v] == 1 { reversed[k] = true } else if state[v] == 0 { state[v] = 1; stack.append((v, 0)) }
                } else {
                    state[top.node] = 2
                    stack.removeLast()
                }
            }
        }
        // Longest-path layering of the acyclic graph.
        let dag: [(Int, Int)] = edges.enumerated().map { k, e in reversed[k] ? (e.to, e.from) : (e.from, e.to) }
        var preds = [[Int]](repeating: [], count: n), succs = preds
        for (u, v) in dag { succs[u].append(v); preds[v].append(u) }
        var indegree = preds.map(\.count), layer = [Int](repeating: 0, count: n)
        var queue = (0..<n).filter { indegree[$0] == 0 }, head = 0
        while head < queue.count {
            let u = queue[head]; head += 1
            for v in succs[u] {
                layer[v] = max(layer[v], layer[u] + 1)
                indegree[v] -= 1
                if indegree[v] == 0 { queue.append(v) }
            }
        }
        // Sources sit just above their first consumer rather than at the top.
        for u in 0..<n where preds[u].isEmpty && !succs[u].isEmpty {
            layer[u] = succs[u].map { layer[$0] }.min()! - 1
        }
        // Bend points for edges spanning several layers.
        var chains: [[Int]] = []
        for (k, (u, v)) in dag.enumerated() {
            var chain = [u]
            var l = layer[u] + 1
            while l < layer[v] {
                nodes.append(Node(kind: .bend, center: MapPoint(x: 0, y: Double(l)), width: 6, height: 6))
                layer.append(l)
                chain.append(nodes.count - 1)
                l += 1
            }
            chain.append(v)
            // A direct edge's label sits at the middle of its drawn route: keep room for it there.
            if chain.count > 2 && reactionNode[edges[k].reaction] == nil {
                let middle = reversed[k] ? chain.count - 1 - chain.count / 2 : chain.count / 2
                nodes[chain[middle]].labelRoom = 8 + 6 * Double(network.reactions[edges[k].reaction].id.count)
            }
            chains.append(chain)
        }
        let total = nodes.count, layerCount = (layer.max() ?? 0) + 1
        var up = [[Int]](repeating: [], count: total), down = up
        for c in chains { for i in 1..<c.count { down[c[i - 1]].append(c[i]); up[c[i]].append(c[i - 1]) } }
        // Initial order: breadth first from the top layer, so connected nodes start near each other.
        var layers = [[Int]](repeating: [], count: layerCount)
        var placed = [Bool](repeating: false, count: total)
        for root in (0..<total).sorted(by: { layer[$0] < layer[$1] }) where !placed[root] {
            var q = [root]; placed[root] = true; var h = 0
            while h < q.count {
                let u = q[h]; h += 1
                layers[layer[u]].append(u)
                for v in down[u] + up[u] where !placed[v] { placed[v] = true; q.append(v) }
            }
        }
        layers = Self.orderByBarycentres(layers, up: up, down: down)
        // x: each layer in turn fitted to its neighbours' mean x under the minimum gaps.
        var x = [Double](repeating: 0, count: total)
        func gap(_ a: Int, _ b: Int) -> Double {
            let bends = (nodes[a].kind == .bend ? 1 : 0) + (nodes[b].kind == .bend ? 1 : 0)
            return (nodes[a].width + nodes[b].width) / 2 + nodes[a].labelRoom + (bends == 0 ? Self.nodeGap : bends == 1 ? 18 : 10)
        }
        for l in layers {
            var cursor = 0.0
            for (i, v) in l.enumerated() { if i > 0 { cursor += gap(l[i - 1], v) }; x[v] = cursor }
        }
        for sweep in 0..<12 {
            let order = sweep % 2 == 0 ? Array(layers.indices) : Array(layers.indices.reversed())
            for li in order {
                let l = layers[li]
                guard !l.isEmpty else { continue }
                var target: [Double] = [], weight: [Double] = []
                for v in l {
                    let ns = sweep < 2 ? (sweep == 0 ? up[v] : down[v]) : up[v] + down[v]
                    let all = ns.isEmpty ? up[v] + down[v] : ns
                    target.append(all.isEmpty ? x[v] : all.map { x[$0] }.reduce(0, +) / Double(all.count))
                    weight.append(nodes[v].kind == .bend ? 4 : all.isEmpty ? 0.01 : 1)
                }
                var offsets = [0.0]
                for i in 1..<l.count { offsets.append(offsets[i - 1] + gap(l[i - 1], l[i])) }
                let fitted = Self.isotonic(zip(target, offsets).map { $0 - $1 }, weights: weight)
                for (i, v) in l.enumerated() { x[v] = fitted[i] + offsets[i] }
            }
        }
        for v in 0..<total {
            nodes[v].center = MapPoint(x: x[v], y: Double(layer[v]) * Self.layerGap)
        }
        for (k, c) in chains.enumerated() {
            let route = c.map { nodes[$0].center }
            edges[k].points = reversed[k] ? route.reversed() : route
        }
    }

    /// Barycentre ordering: alternate down and up sweeps, each layer sorted by the mean position
    /// of its neighbours in the layer before; the order with the fewest crossings is kept.
    static func orderByBarycentres(_ start: [[Int]], up: [[Int]], down: [[Int]]) -> [[Int]] {
        var layers = start, best = start, bestCrossings = crossings(start, down: down)
        var position = [Int: Int]()
        func index(_ ls: [[Int]]) { for l in ls { for (i, v) in l.enumerated() { position[v] = i } } }
        for sweep in 0..<24 where bestCrossings > 0 {
            index(layers)
            let downward = sweep % 2 == 0
            let order = downward ? Array(layers.indices.dropFirst()) : Array(layers.indices.dropLast().reversed())
            for li in order {
                let keyed = layers[li].enumerated().map { i, v -> (Double, Int, Int) in
                    let ns = downward ? up[v] : down[v]
                    let b = ns.isEmpty ? Double(i) : Double(ns.map { position[$0]! }.reduce(0, +)) / Double(ns.count)
                    return (b, i, v)
                }
                layers[li] = keyed.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
                for (i, v) in layers[li].enumerated() { position[v] = i }
            }
            transpose(&layers, down: down)
            let c = crossings(layers, down: down)
            if c < bestCrossings { bestCrossings = c; best = layers }
        }
        return best
    }

    /// Swaps neighbours within a layer while that lowers the crossings with the layers above and below.
    static func transpose(_ layers: inout [[Int]], down: [[Int]]) {
        func local(_ li: Int) -> Int {
            (li > 0 ? crossingsBetween(layers[li - 1], layers[li], down: down) : 0)
                + (li + 1 < layers.count ? crossingsBetween(layers[li], layers[li + 1], down: down) : 0)
        }
        var improved = true, rounds = 0
        while improved && rounds < 8 {
            improved = false
            rounds += 1
            for li in layers.indices where layers[li].count > 1 {
                var current = local(li)
                for i in 0..<(layers[li].count - 1) {
                    layers[li].swapAt(i, i + 1)
                    let trial = local(li)
                    if trial < current { current = trial; improved = true } else { layers[li].swapAt(i, i + 1) }
                }
            }
        }
    }

    /// Crossings of the edges from `upper` to `lower` (consecutive layers).
    static func crossingsBetween(_ upper: [Int], _ lower: [Int], down: [[Int]]) -> Int {
        var position = [Int: Int](minimumCapacity: lower.count)
        for (i, v) in lower.enumerated() { position[v] = i }
        var pairs: [(Int, Int)] = []
        for (i, v) in upper.enumerated() { for w in down[v] { if let q = position[w] { pairs.append((i, q)) } } }
        var count = 0
        for a in pairs.indices { for b in (a + 1)..<max(a + 1, pairs.count) where (pairs[a].0 - pairs[b].0) * (pairs[a].1 - pairs[b].1) < 0 { count += 1 } }
        return count
    }

    /// Edge crossings between consecutive layers.
    static func crossings(_ layers: [[Int]], down: [[Int]]) -> Int {
        layers.indices.dropLast().reduce(0) { $0 + crossingsBetween(layers[$1], layers[$1 + 1], down: down) }
    }

    /// Weighted isotonic (non-decreasing) regression by pooling adjacent violators.
    static func isotonic(_ y: [Double], weights: [Double]) -> [Double] {
        var blocks: [(value: Double, weight: Double, count: Int)] = []
        for (v, w) in zip(y, weights) {
            blocks.append((v, w, 1))
            while blocks.count > 1 && blocks[blocks.count - 2].value > blocks[blocks.count - 1].value {
                let b = blocks.removeLast(), a = blocks.removeLast()
                let w = a.weight + b.weight
                blocks.append(((a.value * a.weight + b.value * b.weight) / w, w, a.count + b.count))
            }
        }
        return blocks.flatMap { [Double](repeating: $0.value, count: $0.count) }
    }

    // MARK: - Around pinned coordinates

    private mutating func placeAroundPinned(_ pinned: FluxMapCoordinates, network: MetabolicNetwork) {
        var fixed = [Bool](repeating: false, count: nodes.count)
        for (p, pool) in network.pools.enumerated() {
            if let v = poolNode[p], let c = pinned.pools[pool.id] { nodes[v].center = c; fixed[v] = true }
        }
        for (j, r) in network.reactions.enumerated() {
            if let v = reactionNode[j], let c = pinned.reactions[r.id] { nodes[v].center = c; fixed[v] = true }
        }
        var neighbours = [[Int]](repeating: [], count: nodes.count)
        for e in edges { neighbours[e.from].append(e.to); neighbours[e.to].append(e.from) }
        // Unpinned nodes: the mean of their placed neighbours, spreading outwards from the pinned ones.
        var placed = fixed
        var progress = true
        while progress {
            progress = false
            for v in nodes.indices where !placed[v] {
                let ns = neighbours[v].filter { placed[$0] }
                guard !ns.isEmpty else { continue }
                var c = MapPoint(x: ns.map { nodes[$0].center.x }.reduce(0, +) / Double(ns.count),
                                 y: ns.map { nodes[$0].center.y }.reduce(0, +) / Double(ns.count))
                if case .sink = nodes[v].kind { c.y += 40 } else if ns.count == 1 { c.y += Self.layerGap }
                nodes[v].center = c
                placed[v] = true
                progress = true
            }
        }
        let bottom = nodes.indices.filter { placed[$0] }.map { nodes[$0].maxY }.max() ?? 0
        var cursor = 0.0
        for v in nodes.indices where !placed[v] {
            nodes[v].center = MapPoint(x: cursor + nodes[v].width / 2, y: bottom + Self.layerGap)
            cursor += nodes[v].width + Self.nodeGap
        }
        // Unpinned nodes move to the nearest spot clear of every node settled before them.
        var settled = nodes.indices.filter { fixed[$0] }
        for v in nodes.indices where !fixed[v] {
            let base = nodes[v].center
            search: for ring in 0... {
                for i in -ring...ring {
                    for j in -ring...ring where max(abs(i), abs(j)) == ring {
                        var trial = nodes[v]
                        trial.center = MapPoint(x: base.x + Double(i) * 24, y: base.y + Double(j) * 16)
                        if !settled.contains(where: { Self.overlap(trial, nodes[$0], margin: 6, labels: true) }) {
                            nodes[v] = trial
                            break search
                        }
                    }
                }
            }
            settled.append(v)
        }
        for k in edges.indices { edges[k].points = [nodes[edges[k].from].center, nodes[edges[k].to].center] }
    }

    /// `true` when the boxes of `a` and `b`, each grown by `margin` (and by its label room with
    /// `labels`), intersect.
    public static func overlap(_ a: Node, _ b: Node, margin: Double = 0, labels: Bool = false) -> Bool {
        let ar = a.maxX + (labels ? a.labelRoom : 0), br = b.maxX + (labels ? b.labelRoom : 0)
        return a.minX - margin < br && b.minX - margin < ar && a.minY - margin < b.maxY && b.minY - margin < a.maxY
    }

    /// Shifts everything so the node boxes start at (0, 0), and records the extent.
    private mutating func normalise() {
        let x0 = nodes.map(\.minX).min() ?? 0, y0 = nodes.map(\.minY).min() ?? 0
        for v in nodes.indices { nodes[v].center.x -= x0; nodes[v].center.y -= y0 }
        for k in edges.indices { edges[k].points = edges[k].points.map { MapPoint(x: $0.x - x0, y: $0.y - y0) } }
        width = nodes.map { $0.maxX + $0.labelRoom }.max() ?? 0
        height = nodes.map(\.maxY).max() ?? 0
    }
}
