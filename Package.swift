// swift-tools-version:6.0
import PackageDescription

/// Linear algebra: OpenBLAS + LAPACKE on Linux, Accelerate on Apple platforms.
let laLinker: [LinkerSetting] = [
    .linkedLibrary("openblas", .when(platforms: [.linux])),
    .linkedLibrary("lapacke", .when(platforms: [.linux])),
    .linkedFramework("Accelerate", .when(platforms: [.macOS, .iOS])),
]

let laDiagnosticsLinker: [LinkerSetting] = []

let package = Package(
    name: "MLFlux",
    platforms: [.macOS(.v14)],  // v14: Hummingbird 2 (mlflux serve)
    products: [
        .executable(name: "mlflux", targets: ["mlflux"]),
        .library(name: "MLFluxCore", targets: ["MLFluxCore"]),
        .library(name: "FluxML", targets: ["FluxML"]),
        .library(name: "EMU", targets: ["EMU"]),
        .library(name: "Bundles", targets: ["Bundles"]),
        .library(name: "FluxSampling", targets: ["FluxSampling"]),
        .library(name: "NeuralNetworks", targets: ["NeuralNetworks"]),
        .library(name: "Prediction", targets: ["Prediction"]),
        .library(name: "Imputation", targets: ["Imputation"]),
        .library(name: "SafeIO", targets: ["SafeIO"]),
        .library(name: "IsotopeCorrection", targets: ["IsotopeCorrection"]),
        .library(name: "MLFluxOutput", targets: ["MLFluxOutput"]),
        .library(name: "MLFluxServer", targets: ["MLFluxServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]),
        .systemLibrary(
            name: "CLAPACK", path: "Sources/CLAPACK",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .target(name: "LAPACKDiagnostics", linkerSettings: laDiagnosticsLinker),
        .target(name: "LinearAlgebra", dependencies: ["CLAPACK", "LAPACKDiagnostics"], linkerSettings: laLinker),
        .target(name: "SafeIO"),
        .target(name: "IsotopeCorrection", dependencies: ["LinearAlgebra"]),
        .target(name: "MLFluxCore", dependencies: ["SafeIO"]),
        .target(name: "FluxML", dependencies: ["CLibXML2", "MLFluxCore", "SafeIO", "IsotopeCorrection"]),
        .target(name: "EMU", dependencies: ["MLFluxCore"]),
        .target(name: "FluxSampling", dependencies: ["MLFluxCore", "EMU", "SafeIO"]),
        .target(name: "NeuralNetworks", dependencies: ["LinearAlgebra", "SafeIO"]),
        .target(name: "Prediction", dependencies: ["MLFluxCore", "EMU", "FluxSampling", "NeuralNetworks", "LinearAlgebra", "SafeIO"]),
        .target(name: "Imputation", dependencies: ["MLFluxCore", "NeuralNetworks", "SafeIO"]),
        .target(name: "Bundles", dependencies: ["MLFluxCore", "FluxML", "EMU", "IsotopeCorrection", "FluxSampling", "NeuralNetworks", "Prediction", "Imputation", "SafeIO"]),
        // Formats of the command line and the server (tables, CSV, JSON of a prediction).
        .target(name: "MLFluxOutput", dependencies: ["MLFluxCore", "Prediction"]),
        // `mlflux serve`: pages and the JSON API over HTTP.
        .target(name: "MLFluxServer", dependencies: ["Bundles", "MLFluxCore", "MLFluxOutput", "Prediction", "SafeIO",
                                                     .product(name: "Hummingbird", package: "hummingbird"),
                                                     .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "mlflux",
            dependencies: ["Bundles", "FluxML", "EMU", "MLFluxCore", "FluxSampling", "NeuralNetworks", "Prediction", "Imputation", "SafeIO", "IsotopeCorrection",
                           "MLFluxOutput", "MLFluxServer",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // libFuzzer harness (`scripts/fuzz.sh`, `Fuzz/README.md`); the plain build replays files.
        .target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),
        .executableTarget(
            name: "mlflux-fuzz",
            dependencies: ["CFuzzDriver", "Bundles", "FluxML", "MLFluxCore", "FluxSampling", "NeuralNetworks", "Prediction"],
            path: "Fuzz/Sources"),
        .target(name: "TestSupport", dependencies: ["MLFluxCore", "FluxML"], path: "Sources/TestSupport"),
        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra", "CLAPACK", "LAPACKDiagnostics"]),
        .testTarget(name: "MLFluxCoreTests", dependencies: ["MLFluxCore", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "FluxMLTests", dependencies: ["FluxML", "MLFluxCore", "TestSupport", "IsotopeCorrection"]),
        .testTarget(name: "EMUTests", dependencies: ["EMU", "FluxML", "MLFluxCore", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "FluxSamplingTests", dependencies: ["FluxSampling", "EMU", "FluxML", "MLFluxCore", "TestSupport"]),
        .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks", "TestSupport"]),
        .testTarget(name: "PredictionTests", dependencies: ["Prediction", "EMU", "FluxML", "FluxSampling", "MLFluxCore", "TestSupport"]),
        .testTarget(name: "ImputationTests", dependencies: ["Imputation", "MLFluxCore", "NeuralNetworks", "TestSupport"]),
        .testTarget(name: "BundlesTests", dependencies: ["Bundles", "NeuralNetworks", "Prediction", "TestSupport", "IsotopeCorrection", "EMU", "MLFluxCore", "FluxML", "FluxSampling"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        .testTarget(name: "SafeIOTests", dependencies: ["SafeIO", "TestSupport"]),
        .testTarget(name: "IsotopeCorrectionTests", dependencies: ["IsotopeCorrection"]),
        .testTarget(name: "MLFluxServerTests", dependencies: ["MLFluxServer", "Bundles", "MLFluxCore", "TestSupport",
                                                             .product(name: "HummingbirdTesting", package: "hummingbird")]),
    ]
)
