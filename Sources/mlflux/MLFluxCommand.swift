import ArgumentParser
import Bundles
import Foundation

/// `mlflux`: the command-line tool. Each subcommand parses its arguments, calls
/// the library (Bundles, FluxML, EMU) and formats the result; errors print as one
/// line on stderr (`Error: …`) with a non-zero exit status.
@main
struct MLFluxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlflux",
        abstract: "Turn isotope labeling patterns into metabolic fluxes.",
        discussion: """
            Models are bundles (folders with a manifest.json) found on the search path: \
            $MLFLUX_PLUGIN_PATH and $MLFLUX_PLUGINS (colon-separated), ./Plugins, the user data \
            folder, then the Plugins folder of the repository or installation of this executable.
            """,
        version: MLFluxVersion.current,
        subcommands: [Models.self, BundleCommand.self, Describe.self, Simulate.self, Dataset.self, Train.self, Evaluate.self, Resolvability.self, Predict.self, Impute.self, Posterior.self, Compare.self, Fit.self, Template.self, Correct.self, Bench.self, MapCommand.self, Serve.self])

    static func main() {
        BLASThreads.limitToOne()
        Self.main(nil)
    }
}
