import Foundation
import SafeIO
import XCTest

final class InputFileTests: XCTestCase {
    func testDevicesFoldersAndFIFOsAreRefusedAtOnce() throws {
        XCTAssertThrowsError(try InputFile.read("/dev/zero", what: "FluxML network")) { e in
            XCTAssertTrue("\(e)".contains("/dev/zero: is a device, not a regular file"), "\(e)")
        }
        let dir = NSTemporaryDirectory() + "mlflux-input-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try InputFile.read(dir)) { e in XCTAssertTrue("\(e)".contains("is a folder"), "\(e)") }
        let fifo = dir + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let start = Date()
        XCTAssertThrowsError(try InputFile.read(fifo)) { e in XCTAssertTrue("\(e)".contains("FIFO"), "\(e)") }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    func testSizeLimitIsCheckedBeforeReading() throws {
        let path = NSTemporaryDirectory() + "mlflux-input-\(UUID().uuidString)"
        try Data(repeating: 65, count: 1000).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(try InputFile.read(path, limit: 1000).count, 1000)
        XCTAssertThrowsError(try InputFile.read(path, limit: 999, what: "manifest")) { e in
            XCTAssertEqual("\(e)", "\(path): 1000 bytes is larger than the 999-byte limit for a manifest")
        }
        XCTAssertThrowsError(try InputFile.read(path + ".missing")) { e in XCTAssertTrue("\(e)".hasSuffix("no such file")) }
    }

    func testExcerptsAreShortAndPrintable() {
        let huge = String(repeating: "x", count: 100_000_000 / 1000)
        let q = Excerpt.quote(huge)
        XCTAssertLessThan(q.count, 100)
        XCTAssertTrue(q.hasSuffix("… (100000 characters)"))
        XCTAssertEqual(Excerpt.quote("a\rb\r\nc\t\u{1}"), "a\\rb\\r\\nc\\t\\u{1}")
    }
}
