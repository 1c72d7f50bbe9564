import ArgumentParser
import Bundles
import Foundation
import MLFluxOutput

extension OutputFormat: ExpressibleByArgument {}

struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model: pools, reactions, constraints, free fluxes, tracer experiments, measured metabolites.")

    @Argument(help: "Model name (see `mlflux models`).")
    var model: String

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    func validate() throws {
        guard format != .csv else { throw ValidationError("describe supports --format table or json") }
    }

    mutating func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        let d = ModelDescription(bundle)
        for w in bundle.network.warnings { FileHandle.standardError.write(Data("warning: \(bundle.name): \(w)\n".utf8)) }
        switch format {
        case .json:
            print(try JSONOutput.string(d))
        default:
            print(Self.text(d))
        }
    }

    static func text(_ d: ModelDescription) -> String {
        var out: [String] = []
        out.append("model \(d.name): \(d.description)")
        out.append("network \(d.network) (\(d.networkFile)); bundle \(d.bundle)")
        out.append("")
        out.append("pools (\(d.pools.count))")
        out.append(TextTable.render([["ID", "C", "H", "ROLE", "SYMMETRIC"]] + d.pools.map {
            [$0.id, "\($0.carbons)", "\($0.hydrogens)", $0.role, $0.symmetric ? "yes" : ""]
        }, rightAligned: [1, 2]))
        out.append("")
        out.append("reactions (\(d.reactions.count))")
        out.append(TextTable.render([["ID", "DIRECTION", "EQUATION"]] + d.reactions.map {
            [$0.id, $0.direction, $0.equation]
        }))
        out.append("")
        out.append("constraints (\(d.constraints.count))")
        out += d.constraints.map { "  " + $0 }
        out.append("")
        out.append("free fluxes (\(d.freeFluxes.count))")
        out += d.freeFluxes.map { "  " + $0.name + ($0.fixed.map { " = \($0) (fixed)" } ?? "") }
        out.append("")
        out.append("tracer experiments (\(d.experiments.count))")
        for e in d.experiments {
            let inputs = e.inputs.map { input in
                input.pool + ": " + input.components.map { c in
                    "\(c.pattern)×\(c.fraction)" + (c.purity < 1 ? " (purity \(c.purity))" : "")
                }.joined(separator: " + ")
            }
            out.append("  \(e.id): " + (inputs.isEmpty ? "unlabeled" : inputs.joined(separator: "; ")))
        }
        out.append("")
        out.append("measured (\(d.measured.count))")
        out += d.measured.map {
            "  \($0.name) = \($0.pool)[\($0.atoms.map(String.init).joined(separator: ","))]" + ($0.formula.map { ", ion \($0) (natural abundance)" } ?? "")
        }
        return out.joined(separator: "\n")
    }
}
