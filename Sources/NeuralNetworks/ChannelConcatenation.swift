/// Concatenation along channels (U-Net skip connections) and its adjoint.
///
/// `concatenate(a, b)` is `[N, Ca + Cb, H, W]`: `a`'s channels first. Its masks are
/// concatenated with `concatenateMasks`, which broadcasts a one-channel mask to its tensor's
/// channel count first, so the result always has one mask channel per feature channel (the
/// form `PartialConv2D` takes for per-channel masks).
extension Tensor4 {
    /// `[N, Ca, H, W] ++ [N, Cb, H, W] → [N, Ca + Cb, H, W]`.
    public static func concatenate(_ a: Tensor4, _ b: Tensor4) -> Tensor4 {
        precondition(a.batch == b.batch && a.height == b.height && a.width == b.width,
                     "cannot concatenate \(a.shape) and \(b.shape) along channels")
        var out = [Float]()
        out.reserveCapacity(a.storage.count + b.storage.count)
        for n in 0..<a.batch {
            out += a.storage[(n * a.imageSize)..<((n + 1) * a.imageSize)]
            out += b.storage[(n * b.imageSize)..<((n + 1) * b.imageSize)]
        }
        return Tensor4(batch: a.batch, channels: a.channels + b.channels, height: a.height, width: a.width, storage: out)
    }

    /// The adjoint of `concatenate`: channels `0..<channels` and the rest.
    public func splitChannels(at channels: Int) -> (Tensor4, Tensor4) {
        precondition(channels >= 0 && channels <= self.channels, "cannot split \(self.channels) channels at \(channels)")
        let sa = channels * planeSize, sb = imageSize - sa
        var a = [Float](), b = [Float]()
        a.reserveCapacity(batch * sa); b.reserveCapacity(batch * sb)
        for n in 0..<batch {
            a += storage[(n * imageSize)..<(n * imageSize + sa)]
            b += storage[(n * imageSize + sa)..<((n + 1) * imageSize)]
        }
        return (Tensor4(batch: batch, channels: channels, height: height, width: width, storage: a),
                Tensor4(batch: batch, channels: self.channels - channels, height: height, width: width, storage: b))
    }

    /// A mask with `channels` channels: itself, or its single channel repeated.
    public func broadcastingChannels(to channels: Int) -> Tensor4 {
        if self.channels == channels { return self }
        precondition(self.channels == 1, "cannot broadcast a \(self.channels)-channel mask to \(channels) channels")
        var out = [Float]()
        out.reserveCapacity(batch * channels * planeSize)
        for n in 0..<batch {
            let plane = storage[(n * planeSize)..<((n + 1) * planeSize)]
            for _ in 0..<channels { out += plane }
        }
        return Tensor4(batch: batch, channels: channels, height: height, width: width, storage: out)
    }

    /// The mask of `concatenate(a, b)`: `maskA` broadcast to `channelsA` channels, then
    /// `maskB` broadcast to `channelsB`.
    public static func concatenateMasks(_ maskA: Tensor4, channels channelsA: Int,
                                        _ maskB: Tensor4, channels channelsB: Int) -> Tensor4 {
        concatenate(maskA.broadcastingChannels(to: channelsA), maskB.broadcastingChannels(to: channelsB))
    }
}
