@_exported import MLFluxCore
