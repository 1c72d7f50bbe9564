#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import FluxML
import MLFluxCore

/// The package root: the nearest directory above this source file holding `Package.swift`.
public func repositoryRoot() -> String {
    var dir = "\(#filePath)"
    while let slash = dir.lastIndex(of: "/") {
        dir = String(dir[..<slash])
        if access((dir.isEmpty ? "" : dir) + "/Package.swift", F_OK) == 0 { return dir.isEmpty ? "/" : dir }
        if dir.isEmpty { break }
    }
    return "."
}

/// Path of the network file `Networks/<name>.fml` (e.g. `"toy"`, `"glycolysis"`, `"glyppp"`, `"ccm"`).
public func networkPath(_ name: String) -> String {
    repositoryRoot() + "/Networks/\(name).fml"
}

/// Reads `Networks/<name>.fml`.
public func loadNetwork(_ name: String) throws -> MetabolicNetwork {
    try FluxMLReader.read(contentsOf: networkPath(name))
}
