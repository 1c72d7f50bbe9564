/// A model whose trainable parameters an optimiser (`Adam`) can visit in a stable order.
public protocol ParameterUpdatable {
    /// The gradients of one step, in the order `updateParameters` visits the parameters.
    associatedtype Gradients

    /// Calls `body(index, name, parameter, gradient)` for every trainable parameter, `index`
    /// counting from 0 in a fixed order, with mutable access to the parameter's values.
    mutating func updateParameters(
        _ gradients: Gradients,
        _ body: (Int, String, UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void)
}

extension MLP: ParameterUpdatable {}
