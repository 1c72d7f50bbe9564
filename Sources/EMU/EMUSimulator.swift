import MLFluxCore

/// Steady-state isotope labeling simulator on the EMU framework.
///
/// Built once per (network, measured fragments, tracer experiments): the EMU
/// decomposition is compiled into index arrays (`EMULevel`) and the tracer-input MIDs
/// are precomputed. Each `simulate` call then evaluates one flux state for **all**
/// experiments at once: the level matrices depend on fluxes only, so extra experiments
/// are extra right-hand-side columns sharing one factorisation per strongly connected
/// block. With a `FreeFluxBasis`, forward sensitivities give the Jacobian of every MID
/// entry with respect to the free fluxes, reusing the same factorisations.
///
/// Thread safety: immutable; concurrent `simulate` calls are safe (each call owns its buffers).
public final class EMUSimulator: Sendable {
    public let network: MetabolicNetwork
    public let measured: [MeasuredFragment]
    public let experiments: [TracerExperiment]
    /// The instrument's map of each measured fragment's MID (parallel to `measured`; `nil`:
    /// the simulated MID is compared as is). See `MeasurementMap`.
    public let measurementMaps: [MeasurementMap?]
    /// Labeling-only mixing (`Guides/FluxML.md`): the names of the diluted pools, in the
    /// order of the dilution factors `f` that `simulate(_:dilution:)` takes.
    public let dilutionGroups: [String]
    /// Per measured fragment (parallel to `measured`), the index of its group in
    /// `dilutionGroups`, or `nil` for a fragment that is not diluted.
    public let dilutionGroup: [Int?]
    /// `experiments.map(\.id)`, kept so a simulation allocates no new id array.
    let experimentIDs: [String]

    let layout: OneWayLayout
    let levels: [EMULevel]
    /// Offset of each level's `X` (rows × experiments·(n+1)) in the value buffer.
    let levelOffset: [Int]
    let valueCount: Int
    /// Input EMUs: atom count and MIDs (experiment-major, `inputOffset[i] + e·(size+1)`).
    let inputSize: [Int]
    let inputOffset: [Int]
    let inputMIDs: [Double]
    /// Production terms of each pool (total inflow = Σ coef·u): `inflowStart[p] ..< inflowStart[p+1]`.
    let inflowStart: [Int]
    let inflowFlux: [Int32]
    let inflowCoef: [Double]
    /// Where each measured fragment's MID comes from: `(level, row)`, or `(-1, input id)`.
    let outputLevel: [Int]
    let outputRow: [Int]
    let offsets: [Int]
    let blockSize: Int

    /// Sizes of EMU problems the simulator accepts.
    public enum Limits {
        /// Most EMUs (unknown + input) of one decomposition. The shipped networks need
        /// 28 (toy) to 562 (GlyPPP; CCM 373); an atom-permuting 16-atom network would need
        /// ~2^16 per pool, and past ~20,000 EMUs compiling the levels costs seconds and
        /// gigabytes, so the decomposition stops here with `EMUError.problemTooLarge`.
        public static let emus = 20_000
    }

    /// Number of EMUs (unknown + input) of this simulator's decomposition.
    public var emuCount: Int { levels.reduce(0) { $0 + $1.count } + inputSize.count }

    /// - Parameters:
    ///   - measured: fragments to simulate; `nil` = every non-input pool with traced atoms, whole molecule.
    ///   - experiments: tracer experiments (validated against the network).
    ///   - measurementMaps: by fragment name, the map from simulated to measured MID (natural
    ///     abundance of a derivatised fragment); fragments not named are compared as simulated.
    ///   - dilution: by fragment name, the diluted pool (group) the fragment belongs to: its
    ///     measured MID is `map(f·x + (1 − f)·e₀)` with the group's factor `f` (pool dilution).
    /// - Throws: `EMUError.invalidMeasurementMap` for a map of an unknown fragment or a wrong size,
    ///   `.invalidDilution` for a dilution of an unknown fragment.
    public init(network: MetabolicNetwork, measured: [MeasuredFragment]? = nil,
                experiments: [TracerExperiment], measurementMaps: [String: MeasurementMap] = [:],
                dilution: [String: String] = [:]) throws {
        guard !experiments.isEmpty else { throw EMUError.noExperiments }
        for e in experiments { try network.validate(e) }
        let fragments = measured ?? network.balancedPools
            .filter { $0.atomCount > 0 }
            .map(MeasuredFragment.whole)
        var keys: [EMUKey] = []
        for f in fragments {
            guard let p = network.poolIndex[f.pool] else { throw EMUError.unknownPool(f.pool) }
            let n = network.pools[p].atomCount
            guard !f.atoms.isEmpty, f.atoms.allSatisfy({ $0 >= 0 && $0 < n }), Set(f.atoms).count == f.atoms.count else {
                throw EMUError.atomOutOfRange(fragment: f.name, atoms: n)
            }
            keys.append(EMUKey(pool: p, mask: f.atoms.reduce(UInt64(0)) { $0 | (UInt64(1) << UInt64($1)) }))
        }
        for (name, map) in measurementMaps {
            guard let f = fragments.first(where: { $0.name == name }) else {
                throw EMUError.invalidMeasurementMap(fragment: name, reason: "no measured fragment has this name")
            }
            guard map.size == f.atoms.count + 1 else {
                throw EMUError.invalidMeasurementMap(fragment: name, reason: "the map is \(map.size)×\(map.size), the fragment's MID has \(f.atoms.count + 1) entries")
            }
        }
        for name in dilution.keys.sorted() where !fragments.contains(where: { $0.name == name }) {
            throw EMUError.invalidDilution("no measured fragment is named '\(name)'")
        }
        let layout = OneWayLayout(network: network)
        let decomposition = try EMUDecomposition(network: network, layout: layout, measured: keys)
        let compiled = EMUCompiler(decomposition)

        self.network = network
        self.measured = fragments
        self.measurementMaps = fragments.map { measurementMaps[$0.name] }
        var groups: [String] = []
        for f in fragments { if let g = dilution[f.name], !groups.contains(g) { groups.append(g) } }
        self.dilutionGroups = groups
        self.dilutionGroup = fragments.map { f in dilution[f.name].flatMap { groups.firstIndex(of: $0) } }
        self.experiments = experiments
        self.experimentIDs = experiments.map(\.id)
        self.layout = layout
        self.levels = compiled.levels
        var off = 0
        var levelOffset: [Int] = []
        for l in compiled.levels {
            levelOffset.append(off)
            off += l.count * experiments.count * (l.size + 1)
        }
        self.levelOffset = levelOffset
        self.valueCount = off

        var inputSize: [Int] = [], inputOffset: [Int] = [], inputMIDs: [Double] = []
        for e in compiled.inputEMUs {
            let positions = (0..<64).filter { e.mask & (UInt64(1) << UInt64($0)) != 0 }
            inputSize.append(positions.count)
            inputOffset.append(inputMIDs.count)
            let poolID = network.pools[e.pool].id
            for x in experiments {
                if let input = x.input(for: poolID) {
                    inputMIDs.append(contentsOf: input.mid(positions: positions))
                } else {
                    inputMIDs.append(1)
                    inputMIDs.append(contentsOf: repeatElement(0, count: positions.count))
                }
            }
        }
        self.inputSize = inputSize
        self.inputOffset = inputOffset
        self.inputMIDs = inputMIDs

        var inflow = [[(Int32, Double)]](repeating: [], count: network.pools.count)
        for dir in EMUDecomposition.directions(network, layout: layout) {
            for t in dir.targets { inflow[t.pool].append((Int32(dir.flux), 1)) }
        }
        var start = [0], flux: [Int32] = [], coef: [Double] = []
        for terms in inflow {
            for (f, c) in terms { flux.append(f); coef.append(c) }
            start.append(flux.count)
        }
        self.inflowStart = start
        self.inflowFlux = flux
        self.inflowCoef = coef

        var inputID: [EMUKey: Int] = [:]
        for (i, e) in compiled.inputEMUs.enumerated() { inputID[e] = i }
        var outLevel: [Int] = [], outRow: [Int] = [], offsets: [Int] = []
        var size = 0
        for k in keys {
            if let loc = compiled.location[k] {
                outLevel.append(loc.level); outRow.append(loc.row)
            } else {
                outLevel.append(-1); outRow.append(inputID[k]!)
            }
            offsets.append(size)
            size += k.size + 1
        }
        self.outputLevel = outLevel
        self.outputRow = outRow
        self.offsets = offsets
        self.blockSize = size
    }

    /// An independent copy (compiled anew, sharing no buffers), for one worker thread of a
    /// parallel run: workers then never contend on reference counts of shared arrays.
    public func replica() throws -> EMUSimulator {
        try EMUSimulator(network: network, measured: measured, experiments: experiments,
                         measurementMaps: mapsByName, dilution: dilutionByName)
    }

    /// `dilutionGroup` keyed by fragment name (the form `init` takes).
    public var dilutionByName: [String: String] {
        var out: [String: String] = [:]
        for (f, g) in zip(measured, dilutionGroup) { if let g { out[f.name] = dilutionGroups[g] } }
        return out
    }

    /// `measurementMaps` keyed by fragment name (the form `init` takes).
    public var mapsByName: [String: MeasurementMap] {
        var out: [String: MeasurementMap] = [:]
        for (f, m) in zip(measured, measurementMaps) { if let m { out[f.name] = m } }
        return out
    }

    /// Number of EMUs per size level, for diagnostics (`[size: count]`).
    public var emuCounts: [(size: Int, emus: Int, blocks: Int, largestBlock: Int)] {
        levels.map { l in
            let sizes = zip(l.blockStart.dropFirst(), l.blockStart).map { $0 - $1 }
            return (l.size, l.count, sizes.count, sizes.max() ?? 0)
        }
    }

    /// MIDs of the measured fragments for every experiment at flux state `state`.
    /// - Throws: `EMUError` for invalid fluxes or a singular system.
    /// Diluted fragments are simulated undiluted (f = 1).
    public func simulate(_ state: FluxState) throws -> SimulatedLabeling {
        try run(state, basis: nil, dilution: nil).labeling
    }

    /// MIDs and their Jacobian with respect to the free fluxes of `basis` (diluted fragments undiluted).
    public func simulate(_ state: FluxState, basis: FreeFluxBasis) throws
        -> (labeling: SimulatedLabeling, jacobian: LabelingJacobian) {
        let r = try run(state, basis: basis, dilution: nil)
        return (r.labeling, r.jacobian!)
    }

    /// MIDs at `state` with the dilution factors `dilution` (one per `dilutionGroups`, each in [0, 1]).
    /// - Throws: also `EMUError.invalidDilution` for a wrong count or a factor outside [0, 1].
    public func simulate(_ state: FluxState, dilution: [Double]) throws -> SimulatedLabeling {
        try run(state, basis: nil, dilution: try checked(dilution)).labeling
    }

    /// MIDs and their Jacobian at `state` with the dilution factors `dilution`: columns are the
    /// free fluxes of `basis`, then one per dilution group (∂y/∂f).
    public func simulate(_ state: FluxState, basis: FreeFluxBasis, dilution: [Double]) throws
        -> (labeling: SimulatedLabeling, jacobian: LabelingJacobian) {
        let r = try run(state, basis: basis, dilution: try checked(dilution))
        return (r.labeling, r.jacobian!)
    }

    private func checked(_ dilution: [Double]) throws -> [Double] {
        guard dilution.count == dilutionGroups.count else {
            throw EMUError.invalidDilution("\(dilution.count) factors given for \(dilutionGroups.count) diluted pools")
        }
        for (g, f) in zip(dilutionGroups, dilution) where !(f >= 0 && f <= 1) {
            throw EMUError.invalidDilution("the factor of pool '\(g)' is \(f), outside [0, 1]")
        }
        return dilution
    }
}
