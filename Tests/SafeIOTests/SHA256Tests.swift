import SafeIO
import XCTest

/// FIPS 180-4 test vectors (and one 768-byte message checked against Python's hashlib).
final class SHA256Tests: XCTestCase {
    func testKnownDigests() {
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex((0..<3).flatMap { _ in (0...255).map(UInt8.init) }),
                       "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363")
    }

    /// A million 'a' fed in uneven pieces: the digest does not depend on how the bytes arrive.
    func testMillionAInPieces() {
        var h = SHA256()
        var left = 1_000_000, piece = 1
        while left > 0 {
            let k = min(piece, left)
            h.update([UInt8](repeating: 0x61, count: k))
            left -= k
            piece = piece * 7 % 1013 + 1
        }
        XCTAssertEqual(h.hexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
