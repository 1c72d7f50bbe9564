/// Allocation-free repeated inference: keeps one output buffer per layer and reuses it while
/// the batch size stays the same.
///
/// ```swift
/// var run = Inference(model)
/// let y = run(x)            // [batch, outputWidth]
/// let one = run.predict(sample)   // [outputWidth]
/// ```
/// - Complexity: `2·batch·Σ inputs·outputs` flops per call, no allocation after the first
///   call at a given batch size (besides the returned copy).
public struct Inference: Sendable {
    public let model: MLP
    private var buffers: [Matrix] = []
    private var input: Matrix

    public init(_ model: MLP) {
        self.model = model
        input = Matrix(rows: 1, columns: model.inputWidth)
    }

    private mutating func prepare(rows: Int) {
        if buffers.first?.rows != rows {
            buffers = model.layers.map { Matrix(rows: rows, columns: $0.outputs) }
        }
    }

    /// Forward pass through the kept buffers; `x` is `[batch, inputWidth]`.
    public mutating func callAsFunction(_ x: Matrix) -> Matrix {
        prepare(rows: x.rows)
        for i in model.layers.indices {
            if i == 0 { model.layers[0].forward(x, into: &buffers[0]) }
            else { model.layers[i].forward(buffers[i - 1], into: &buffers[i]) }
        }
        return buffers.last ?? x
    }

    /// One sample, `[inputWidth] → [outputWidth]`.
    public mutating func predict(_ sample: [Float]) -> [Float] {
        precondition(sample.count == model.inputWidth, "sample has \(sample.count) values, model takes \(model.inputWidth)")
        input.storage.withUnsafeMutableBufferPointer { dst in
            sample.withUnsafeBufferPointer { dst.baseAddress!.update(from: $0.baseAddress!, count: sample.count) }
        }
        let x = input
        return self(x).storage
    }
}
