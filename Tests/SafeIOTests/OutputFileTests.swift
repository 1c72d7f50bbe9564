import Foundation
import SafeIO
import XCTest

/// Atomic output files, the replace/input policy, folder locks and contained output paths.
final class OutputFileTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "mlflux-output-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func contents(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    func leftovers(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.contains(".tmp-") }
    }

    func testWriteReplacesWholeAndLeavesNoTemporaryFile() throws {
        let path = dir + "/out.txt"
        try OutputFile.write("first", to: path)
        try OutputFile.write("second", to: path)
        XCTAssertEqual(contents(path), "second")
        XCTAssertEqual(leftovers(dir), [])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertNotEqual((mode ?? 0) & 0o044, 0, "readable like a normal file, not mkstemp's 0600")
    }

    func testSymlinkIsReplacedNotWrittenThrough() throws {
        let outside = dir + "/outside.txt"
        try "precious".write(toFile: outside, atomically: true, encoding: .utf8)
        let link = dir + "/link.txt"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: outside)
        try OutputFile.write("new", to: link)
        XCTAssertEqual(contents(outside), "precious")
        XCTAssertEqual(contents(link), "new")
        XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: link), "the link itself was replaced")
    }

    func testFailedWriteIsOneLineNamingTheFile() throws {
        let path = dir + "/missing-folder/out.txt"
        XCTAssertThrowsError(try OutputFile.write("x", to: path)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.hasPrefix(path + ": cannot be written"), text)
            XCTAssertFalse(text.contains("Error Domain") || text.contains("\n"), text)
        }
    }

    func testStagedOutputChangesNothingUntilCommitted() throws {
        let path = dir + "/weights.bin"
        try OutputFile.write("old", to: path)
        var staged: OutputFile.Staged? = try OutputFile.stage(Data("new".utf8), for: path)
        XCTAssertEqual(contents(path), "old")
        XCTAssertEqual(leftovers(dir).count, 1)
        staged = nil   // dropped without commit: discarded
        XCTAssertNil(staged)
        XCTAssertEqual(contents(path), "old")
        XCTAssertEqual(leftovers(dir), [])
        try OutputFile.stage(Data("new".utf8), for: path).commit()
        XCTAssertEqual(contents(path), "new")
    }

    func testExistingOutputNeedsForceAndTheInputIsNeverReplaced() throws {
        let input = dir + "/in.csv", out = dir + "/out.csv"
        try "a".write(toFile: input, atomically: true, encoding: .utf8)
        XCTAssertNoThrow(try OutputFile.check(out, force: false, inputs: [input]))
        try "b".write(toFile: out, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try OutputFile.check(out, force: false)) { e in
            XCTAssertEqual("\(e)", "\(out): already exists; add --force to replace it")
        }
        XCTAssertNoThrow(try OutputFile.check(out, force: true, inputs: [input]))
        let link = dir + "/link.csv"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: input)
        for same in [input, link, dir + "/./in.csv", dir + "/../" + (dir as NSString).lastPathComponent + "/in.csv"] {
            XCTAssertThrowsError(try OutputFile.check(same, force: true, inputs: [input])) { e in
                XCTAssertTrue("\(e)".contains("is the input file \(input)"), "\(e)")
            }
        }
        XCTAssertThrowsError(try OutputFile.check(dir, force: true)) { e in XCTAssertTrue("\(e)".contains("is a folder"), "\(e)") }
    }

    func testFolderLockIsExclusiveUntilReleased() throws {
        let folder = dir + "/data"
        let first = try FolderLock(folder)   // creates the folder
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder))
        XCTAssertThrowsError(try FolderLock(folder)) { e in
            XCTAssertEqual("\(e)", "\(folder): is being written by another mlflux run; wait for it to finish or choose another output folder")
        }
        first.release()
        XCTAssertNoThrow(try FolderLock(folder).release())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [], "no lock file is left behind")
    }

    func testContainedOutputsRefuseSymlinksLeavingTheRoot() throws {
        let root = dir + "/bundle", outside = dir + "/outside"
        for d in [root, outside] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        // Missing folders: only checked with create: false, created otherwise.
        XCTAssertEqual(try ContainedPath.output("reports/a.json", in: root, create: false), root + "/reports/a.json")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/reports"))
        XCTAssertEqual(try ContainedPath.output("reports/a.json", in: root), root + "/reports/a.json")
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/reports"))
        for bad in ["../x.json", "/etc/passwd", "reports/../../x", ""] {
            XCTAssertThrowsError(try ContainedPath.output(bad, in: root), bad)
        }
        // A folder linked outside, a file linked outside: refused, naming the link.
        try FileManager.default.createSymbolicLink(atPath: root + "/plots", withDestinationPath: outside)
        XCTAssertThrowsError(try ContainedPath.output("plots/p.svg", in: root)) { e in
            XCTAssertTrue("\(e)".hasPrefix(root + "/plots: is a symlink leaving the bundle"), "\(e)")
        }
        try "precious".write(toFile: outside + "/w.bin", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/w.bin", withDestinationPath: outside + "/w.bin")
        XCTAssertThrowsError(try ContainedPath.output("w.bin", in: root)) { e in
            XCTAssertTrue("\(e)".hasPrefix(root + "/w.bin: is a symlink leaving the bundle"), "\(e)")
        }
        // A link inside the root is fine.
        try FileManager.default.createSymbolicLink(atPath: root + "/latest", withDestinationPath: root + "/reports")
        XCTAssertEqual(try ContainedPath.output("latest/b.json", in: root), root + "/latest/b.json")
    }
}
