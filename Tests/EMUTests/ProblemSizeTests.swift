import Foundation
import FluxML
import MLFluxCore
import TestSupport
import XCTest
@testable import EMU

/// A 16-atom network whose atom maps permute, cleave and re-join atoms: from one measured
/// 8-atom fragment, every atom subset of every pool becomes an EMU (~2^16 per pool).
let permutingNetwork = """
<?xml version="1.0" encoding="utf-8"?>
<fluxml xmlns="http://www.13cflux.net/fluxml">
  <reactionnetwork>
    <metabolitepools>
      <pool id="A" atoms="16"/><pool id="B" atoms="16"/><pool id="C" atoms="16"/>
      <pool id="D" atoms="8"/><pool id="E" atoms="8"/><pool id="F" atoms="16"/>
    </metabolitepools>
    <reaction id="r1"><reduct cfg="abcdefghijklmnop" id="A"/><rproduct cfg="abcdefghijklmnop" id="B"/></reaction>
    <reaction id="r2"><reduct cfg="abcdefghijklmnop" id="B"/><rproduct cfg="bacdefghijklmnop" id="C"/></reaction>
    <reaction id="r3"><reduct cfg="abcdefghijklmnop" id="C"/><rproduct cfg="bcdefghijklmnopa" id="B"/></reaction>
    <reaction id="r4"><reduct cfg="abcdefghijklmnop" id="B"/><rproduct cfg="abcdefgh" id="D"/><rproduct cfg="ijklmnop" id="E"/></reaction>
    <reaction id="r5"><reduct cfg="abcdefgh" id="D"/><reduct cfg="ABCDEFGH" id="E"/><rproduct cfg="aAbBcCdDeEfFgGhH" id="C"/></reaction>
    <reaction id="r6"><reduct cfg="abcdefghijklmnop" id="C"/><rproduct cfg="pabcdefghijklmno" id="F"/></reaction>
    <reaction id="r7"><reduct cfg="abcdefghijklmnop" id="F"/><rproduct cfg="hgfedcbaponmlkji" id="B"/></reaction>
    <reaction id="r8"><reduct cfg="abcdefghijklmnop" id="F"/></reaction>
  </reactionnetwork>
  <configuration name="c1">
    <input pool="A" type="isotopomer"><label cfg="1000000000000000">1</label></input>
  </configuration>
</fluxml>
"""

final class ProblemSizeTests: XCTestCase {
    /// The decomposition stops with a clear error at the EMU limit, long before memory grows.
    func testAtomPermutingNetworkIsRefusedQuicklyWithinBoundedMemory() throws {
        let net = try FluxMLReader.parse(permutingNetwork, fileName: "permuting.fml")
        let fragment = MeasuredFragment(name: "B[1-8]", pool: "B", atoms: Array(0..<8))
        let start = Date()
        XCTAssertThrowsError(try EMUSimulator(network: net, measured: [fragment], experiments: net.experiments)) { e in
            guard case EMUError.problemTooLarge(let n, let limit) = e else { return XCTFail("\(e)") }
            XCTAssertGreaterThan(n, limit)
            XCTAssertTrue("\(e)".contains("more than \(limit) EMUs"), "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    /// The shipped networks stay well inside the limit.
    func testShippedNetworksFitTheLimit() throws {
        for name in ["toy", "glycolysis", "glyppp", "ccm"] {
            let net = try loadNetwork(name)
            let sim = try EMUSimulator(network: net, experiments: net.experiments)
            XCTAssertLessThan(sim.emuCount, EMUSimulator.Limits.emus / 10, name)
        }
    }
}
