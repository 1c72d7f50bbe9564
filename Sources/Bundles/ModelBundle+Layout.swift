import MLFluxCore

extension ModelBundle {
    /// The labeling layout of the bundle's data: its experiments (manifest order) × its
    /// measured fragments (manifest order), experiment-major — the order of
    /// `SimulatedLabeling.values` from `simulator()` and of a dataset's `mids.npy` rows.
    public var layout: LabelingLayout {
        LabelingLayout(experimentIDs: experiments.map(\.id), measured: measured)
    }
}
