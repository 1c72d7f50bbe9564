#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import MLFluxCore
import Testing
import TestSupport

private func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// The whole text of a file, or nil.
private func readText(_ path: String) -> String? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let k = fread(&buf, 1, buf.count, f)
        if k <= 0 { break }
        bytes += buf[0..<k]
    }
    return String(decoding: bytes, as: UTF8.self)
}

private let referenceRoot = repositoryRoot() + "/../shared/reference"
private let ccmStatePath = referenceRoot + "/ml-flux/constraints/CCM_example_flux_state.csv"

@Suite("FreeFluxBasis on the shipped networks")
struct FreeFluxNetworkTests {
    @Test(arguments: ["toy", "glycolysis", "glyppp", "ccm"])
    func kernelSpansBalancedStates(name: String) throws {
        guard fileExists(networkPath(name)) else {
            print("skipped: \(networkPath(name)) not found")
            return
        }
        let network = try loadNetwork(name)
        let basis = try FreeFluxBasis(network: network)
        #expect(maxAbsSK(basis, network) < 1e-10, "\(name): S·K ≠ 0")
        #expect(basis.names.count == basis.count)
        // Random θ (with the fixes applied): balanced, and θ reads back.
        var rng = SplitMix64(seed: 7)
        for _ in 0..<20 {
            var θ = (0..<basis.count).map { _ in Double.random(in: 0...2, using: &rng) }
            for (k, v) in basis.fixed { θ[k] = v }
            let state = basis.fluxState(free: θ)
            let worst = state.balanceResidual(in: network).map(abs).max() ?? 0
            #expect(worst < 1e-10, "\(name): |S·v| = \(worst)")
            let back = basis.freeFluxes(of: state)
            #expect(zip(back, θ).allSatisfy { abs($0 - $1) < 1e-12 })
            #expect(basis.freeConstraints.allSatisfy { $0.coefficients.count == basis.count })
        }
        if name == "toy" {
            #expect(basis.names == ["v1.net", "v3.net", "v2.xch"])
            #expect(basis.fixed == [0: 1])
        }
    }

    @Test func ccmExampleStateIsBalanced() throws {
        guard fileExists(networkPath("ccm")) else {
            print("skipped: \(networkPath("ccm")) not found")
            return
        }
        guard let csv = readText(ccmStatePath) else {
            print("skipped: reference flux state \(ccmStatePath) not found")
            return
        }
        let network = try loadNetwork("ccm")
        // State,Id,type,value,... ; one-way fluxes with mfapy names.
        var oneWay: [String: Double] = [:]
        for line in csv.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4, f[0] == "reaction", let v = Double(f[3]) else { continue }
            oneWay[f[1]] = v
        }
        var net = [Double](repeating: 0, count: network.reactions.count)
        var xch = net
        var missing: [String] = []
        for (j, r) in network.reactions.enumerated() {
            let key = r.id.replacingOccurrences(of: "_", with: "")
            if let fwd = oneWay[key + "f"] {
                let rev = oneWay[key + "r"] ?? 0
                net[j] = fwd - rev
                xch[j] = network.isBidirectional[j] ? min(fwd, rev) : 0
            } else if let v = oneWay[key] {
                net[j] = v
            } else {
                missing.append(r.id)
            }
        }
        #expect(missing.isEmpty, "reactions without a value in the example state: \(missing)")
        let state = FluxState(net: net, exchange: xch)
        let residual = state.balanceResidual(in: network)
        let worst = residual.map(abs).max() ?? 0
        #expect(worst < 1e-6, "CCM example state: max |S·v| = \(worst)")

        // The example state comes from a variant of the model: it is balanced but breaks some
        // of CCM.fml's bounds and equalities (e.g. IN_OAA = 0). So check the kernel on the
        // bare mass balances: the null-space basis of S alone reproduces the state from its
        // free entries (to the rounding of the file).
        let bare = try MetabolicNetwork(name: network.name, pools: network.pools, reactions: network.reactions)
        let basis = try FreeFluxBasis(network: bare)
        #expect(maxAbsSK(basis, bare) < 1e-10)
        let back = basis.fluxState(free: basis.freeFluxes(of: state))
        let netError = zip(back.net, net).map { abs($0 - $1) }.max() ?? 0
        #expect(netError < 1e-5, "CCM: |K·θ − net| = \(netError)")
        #expect(basis.violations(of: state, in: bare, tolerance: 1e-6).isEmpty)
    }
}

private extension String {
    func replacingOccurrences(of target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
