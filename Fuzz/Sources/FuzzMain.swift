import Foundation
#if FUZZING
import CFuzzDriver
#endif

/// `mlflux-fuzz TARGET [ARGS…]` — the libFuzzer harness of MLFlux's file readers.
///
/// - Sanitizer build (`scripts/fuzz.sh`, compiled with `-sanitize=fuzzer,address -DFUZZING`):
///   `ARGS` are libFuzzer's (`-max_total_time=60 corpus/`, or files to replay). The target
///   is also passed on in `MLFLUX_FUZZ_TARGET`, so libFuzzer's `-fork`/`-jobs` children,
///   which get no TARGET argument, fuzz the same target.
/// - Plain build (`swift build`): `ARGS` are files or folders whose files are each run once
///   through the target (a crash is a crash; no sanitizer). `mlflux-fuzz --write-seeds DIR`
///   writes the generated binary seeds (see `Fuzz/README.md`).
@main
enum FuzzMain {
    static func main() {
        var args = CommandLine.arguments
        let program = args.removeFirst()
        if args.first == "--list" || args.first == "list" {
            print(FuzzTargets.all.map(\.name).joined(separator: "\n"))
            return
        }
        if args.first == "--write-seeds" {
            guard args.count == 2 else { fail("usage: mlflux-fuzz --write-seeds DIR") }
            do { try Seeds.write(into: args[1]) } catch { fail("cannot write seeds: \(error)") }
            return
        }
        let target: FuzzTarget
        if let first = args.first, let t = FuzzTargets.named(first) {
            target = t
            args.removeFirst()
        } else if let env = ProcessInfo.processInfo.environment["MLFLUX_FUZZ_TARGET"], let t = FuzzTargets.named(env) {
            target = t
        } else {
            fail("usage: mlflux-fuzz TARGET [libFuzzer options | files]\ntargets: "
                 + FuzzTargets.all.map(\.name).joined(separator: ", "))
        }
        FuzzTargets.current = target
        setenv("MLFLUX_FUZZ_TARGET", target.name, 1)
        #if FUZZING
        exit(runLibFuzzer(program: program, arguments: args))
        #else
        exit(replay(target, args))
        #endif
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }

    /// Runs every file (folders: their files, sorted) through `target` once.
    static func replay(_ target: FuzzTarget, _ paths: [String]) -> Int32 {
        var files: [String] = []
        let fm = FileManager.default
        for p in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else { fail("no such file: \(p)") }
            if isDir.boolValue {
                let names = ((try? fm.contentsOfDirectory(atPath: p)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
                files += names.map { (p as NSString).appendingPathComponent($0) }
            } else {
                files.append(p)
            }
        }
        for f in files {
            guard let data = fm.contents(atPath: f) else { fail("cannot read \(f)") }
            target.run([UInt8](data))
            print("\(target.name): \(f) ok")
        }
        print("\(target.name): \(files.count) input(s) ran without a crash")
        return 0
    }
}

#if FUZZING
/// The libFuzzer callback: one input through the current target.
@_cdecl("LLVMFuzzerTestOneInput")
public func mlfluxFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 || data == nil ? [] : [UInt8](UnsafeBufferPointer(start: data, count: size))
    FuzzTargets.current?.run(bytes)
    return 0
}

/// Hands `program arguments…` to libFuzzer's driver (which then calls `LLVMFuzzerTestOneInput`).
func runLibFuzzer(program: String, arguments: [String]) -> Int32 {
    var argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
    var argc = Int32(arguments.count + 1)
    return argv.withUnsafeMutableBufferPointer { buffer in
        var base: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
        return LLVMFuzzerRunDriver(&argc, &base) { data, size in
            mlfluxFuzzTestOneInput(data, size)
        }
    }
}
#endif
