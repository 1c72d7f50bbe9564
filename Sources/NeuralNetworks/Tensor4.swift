/// A batch of images, Float32, laid out **NCHW**: element `(n, c, y, x)` lives at
/// `storage[((n · channels + c) · height + y) · width + x]`.
///
/// The convolutional layers (`PartialConv2D`, `BatchNorm2D`, `PartialConvUNet`) take and
/// return `Tensor4`s. A validity **mask** is a `Tensor4` too, of shape `[N, 1, H, W]` (one
/// mask per image, shared by every channel) or `[N, C, H, W]` (one per channel), holding 0
/// (missing) or 1 (valid).
public struct Tensor4: Equatable, Sendable, CustomStringConvertible {
    /// `N`, images in the batch.
    public let batch: Int
    /// `C`.
    public let channels: Int
    /// `H`.
    public let height: Int
    /// `W`.
    public let width: Int
    /// `N·C·H·W` values, NCHW.
    public var storage: [Float]

    /// A tensor with every element equal to `value`.
    public init(batch: Int, channels: Int, height: Int, width: Int, repeating value: Float = 0) {
        precondition(batch >= 0 && channels >= 0 && height >= 0 && width >= 0, "negative tensor dimension")
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
        storage = [Float](repeating: value, count: batch * channels * height * width)
    }

    /// Wraps NCHW values; `storage.count` must equal `batch·channels·height·width`.
    public init(batch: Int, channels: Int, height: Int, width: Int, storage: [Float]) {
        precondition(batch >= 0 && channels >= 0 && height >= 0 && width >= 0, "negative tensor dimension")
        precondition(storage.count == batch * channels * height * width,
                     "tensor storage has \(storage.count) values, \(batch)×\(channels)×\(height)×\(width) needs \(batch * channels * height * width)")
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
        self.storage = storage
    }

    /// A tensor whose storage is written by `body` (every element must be initialised).
    @inlinable
    public init(batch: Int, channels: Int, height: Int, width: Int,
                unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        precondition(batch >= 0 && channels >= 0 && height >= 0 && width >= 0, "negative tensor dimension")
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
        let count = batch * channels * height * width
        storage = [Float](unsafeUninitializedCapacity: count) { buffer, n in
            body(buffer)
            n = count
        }
    }

    /// `[N, C, H, W]`.
    public var shape: [Int] { [batch, channels, height, width] }
    /// `H·W`.
    public var planeSize: Int { height * width }
    /// `C·H·W`, the values of one image.
    public var imageSize: Int { channels * height * width }

    /// Element `(n, c, y, x)`.
    @inlinable
    public subscript(n: Int, c: Int, y: Int, x: Int) -> Float {
        get { storage[((n * channels + c) * height + y) * width + x] }
        set { storage[((n * channels + c) * height + y) * width + x] = newValue }
    }

    /// The images `indices`, in that order.
    public func images(_ indices: some Collection<Int>) -> Tensor4 {
        var out = [Float]()
        out.reserveCapacity(indices.count * imageSize)
        for i in indices { out += storage[(i * imageSize)..<((i + 1) * imageSize)] }
        return Tensor4(batch: indices.count, channels: channels, height: height, width: width, storage: out)
    }

    /// The batch viewed as a `[N, C·H·W]` matrix (one flattened image per row, `(c, y, x)` order).
    public var flattened: Matrix { Matrix(rows: batch, columns: imageSize, storage: storage) }

    /// A `[N, C, H, W]` tensor from a `[N, C·H·W]` matrix (the inverse of `flattened`).
    public init(_ matrix: Matrix, channels: Int, height: Int, width: Int) {
        precondition(matrix.columns == channels * height * width,
                     "a \(matrix.columns)-column matrix is not \(channels)×\(height)×\(width) images")
        self.init(batch: matrix.rows, channels: channels, height: height, width: width, storage: matrix.storage)
    }

    /// Whether every value is finite.
    public var isFinite: Bool { storage.allSatisfy(\.isFinite) }

    public var description: String { "Tensor4(\(batch)×\(channels)×\(height)×\(width))" }

    /// Largest absolute element-wise difference (for tests and diagnostics).
    public func maxAbsDifference(_ other: Tensor4) -> Float {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        var d: Float = 0
        for i in storage.indices { d = max(d, abs(storage[i] - other.storage[i])) }
        return d
    }
}

// MARK: - Padding and cropping

extension Tensor4 {
    /// The tensor placed at the top-left of a `height × width` canvas filled with `value`
    /// (`height ≥ self.height`, `width ≥ self.width`).
    public func padded(height ph: Int, width pw: Int, value: Float = 0) -> Tensor4 {
        precondition(ph >= height && pw >= width, "cannot pad \(height)×\(width) to \(ph)×\(pw)")
        if ph == height && pw == width { return self }
        var out = Tensor4(batch: batch, channels: channels, height: ph, width: pw, repeating: value)
        for plane in 0..<(batch * channels) {
            for y in 0..<height {
                let src = (plane * height + y) * width, dst = (plane * ph + y) * pw
                for x in 0..<width { out.storage[dst + x] = storage[src + x] }
            }
        }
        return out
    }

    /// The top-left `height × width` window (the inverse of `padded`).
    public func cropped(height ch: Int, width cw: Int) -> Tensor4 {
        precondition(ch <= height && cw <= width, "cannot crop \(height)×\(width) to \(ch)×\(cw)")
        if ch == height && cw == width { return self }
        var out = Tensor4(batch: batch, channels: channels, height: ch, width: cw)
        for plane in 0..<(batch * channels) {
            for y in 0..<ch {
                let src = (plane * height + y) * width, dst = (plane * ch + y) * cw
                for x in 0..<cw { out.storage[dst + x] = storage[src + x] }
            }
        }
        return out
    }
}
