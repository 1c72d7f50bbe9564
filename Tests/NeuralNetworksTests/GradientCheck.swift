import XCTest
import NeuralNetworks
import TestSupport

/// Random matrix with entries `N(0, scale²)`-ish (uniform, deterministic).
func randomMatrix(_ rows: Int, _ columns: Int, scale: Float = 1, using rng: inout SplitMix64) -> Matrix {
    Matrix(rows: rows, columns: columns,
           storage: (0..<(rows * columns)).map { _ in Float.random(in: -scale...scale, using: &rng) })
}

/// Compares `gradient` with central differences of `f` around `x` (evaluated in Double from
/// Float32 values): `|fd − g| ≤ tolerance · max(1, |g|)` for every coordinate.
func assertGradient(_ f: ([Float]) -> Double, at x: [Float], gradient: [Float], step h: Float = 1e-2,
                    tolerance: Double = 2e-3, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(x.count, gradient.count, "\(what): gradient size", file: file, line: line)
    var worst = 0.0
    var xp = x
    for i in x.indices {
        xp[i] = x[i] + h
        let fp = f(xp)
        xp[i] = x[i] - h
        let fm = f(xp)
        xp[i] = x[i]
        let fd = (fp - fm) / Double(2 * h)
        let err = abs(fd - Double(gradient[i])) / max(1, abs(Double(gradient[i])))
        worst = max(worst, err)
        if err > tolerance {
            XCTFail("\(what)[\(i)]: finite difference \(fd), gradient \(gradient[i])", file: file, line: line)
            return
        }
    }
}

/// `Σ c ⊙ y` in Double: a linear functional whose gradient with respect to `y` is `c`.
func dot(_ c: Matrix, _ y: Matrix) -> Double {
    zip(c.storage, y.storage).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}
