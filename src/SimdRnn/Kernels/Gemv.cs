using System.Numerics;

namespace SimdRnn.Kernels;

/// <summary>
/// Dense matrix-vector kernels over a row-major matrix <c>W</c> of <c>rows × cols</c> floats
/// (element <c>W[i, j]</c> at <c>w[i * cols + j]</c>). Every method validates its arguments once, then runs a
/// vectorized path (<see cref="Vector{T}"/> with fused multiply-add where the hardware has it) or, where vectors are
/// not accelerated or a row is shorter than one vector, its scalar twin. No method allocates.
/// </summary>
public static partial class Gemv
{
    /// <summary>Computes <c>y = W·x + b</c>.</summary>
    /// <param name="w">The matrix, <paramref name="rows"/> × <paramref name="cols"/>, row-major.</param>
    /// <param name="rows">The number of rows of <paramref name="w"/> (M ≥ 0).</param>
    /// <param name="cols">The number of columns of <paramref name="w"/> (N ≥ 0).</param>
    /// <param name="x">The input vector, length <paramref name="cols"/>.</param>
    /// <param name="b">The bias, length <paramref name="rows"/>.</param>
    /// <param name="y">The output, length <paramref name="rows"/>; it must not overlap the inputs.</param>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    public static void MultiplyAdd(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> b, Span<float> y)
    {
        CheckMatrix(w, rows, cols);
        Guard.Length(x, cols, nameof(x));
        Guard.Length(b, rows, nameof(b));
        Guard.Length(y, rows, nameof(y));
        b.CopyTo(y);
        if (UseVectors(cols)) Simd.MultiplyAccumulate(w, rows, cols, x, y);
        else Scalar.MultiplyAccumulate(w, rows, cols, x, y);
    }

    /// <summary>Computes <c>y += W·x</c>.</summary>
    /// <param name="w">The matrix, <paramref name="rows"/> × <paramref name="cols"/>, row-major.</param>
    /// <param name="rows">The number of rows of <paramref name="w"/> (M ≥ 0).</param>
    /// <param name="cols">The number of columns of <paramref name="w"/> (N ≥ 0).</param>
    /// <param name="x">The input vector, length <paramref name="cols"/>.</param>
    /// <param name="y">The accumulator, length <paramref name="rows"/>; it must not overlap the inputs.</param>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    public static void MultiplyAccumulate(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        CheckMatrix(w, rows, cols);
        Guard.Length(x, cols, nameof(x));
        Guard.Length(y, rows, nameof(y));
        if (UseVectors(cols)) Simd.MultiplyAccumulate(w, rows, cols, x, y);
        else Scalar.MultiplyAccumulate(w, rows, cols, x, y);
    }

    /// <summary>Computes <c>y += Wᵀ·x</c> (the back-propagation of <c>W·x</c>).</summary>
    /// <param name="w">The matrix, <paramref name="rows"/> × <paramref name="cols"/>, row-major.</param>
    /// <param name="rows">The number of rows of <paramref name="w"/> (M ≥ 0).</param>
    /// <param name="cols">The number of columns of <paramref name="w"/> (N ≥ 0).</param>
    /// <param name="x">The input vector, length <paramref name="rows"/>.</param>
    /// <param name="y">The accumulator, length <paramref name="cols"/>; it must not overlap the inputs.</param>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    public static void MultiplyTransposedAccumulate(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        CheckMatrix(w, rows, cols);
        Guard.Length(x, rows, nameof(x));
        Guard.Length(y, cols, nameof(y));
        if (UseVectors(cols)) Simd.MultiplyTransposedAccumulate(w, rows, cols, x, y);
        else Scalar.MultiplyTransposedAccumulate(w, rows, cols, x, y);
    }

    /// <summary>Computes the rank-1 update <c>G += a·bᵀ</c> (a weight gradient).</summary>
    /// <param name="g">The matrix to update, <paramref name="rows"/> × <paramref name="cols"/>, row-major.</param>
    /// <param name="rows">The number of rows of <paramref name="g"/> (M ≥ 0).</param>
    /// <param name="cols">The number of columns of <paramref name="g"/> (N ≥ 0).</param>
    /// <param name="a">The column factor, length <paramref name="rows"/>.</param>
    /// <param name="b">The row factor, length <paramref name="cols"/>.</param>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    public static void AddOuterProduct(Span<float> g, int rows, int cols, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        CheckMatrix(g, rows, cols);
        Guard.Length(a, rows, nameof(a));
        Guard.Length(b, cols, nameof(b));
        if (UseVectors(cols)) Simd.AddOuterProduct(g, rows, cols, a, b);
        else Scalar.AddOuterProduct(g, rows, cols, a, b);
    }

    /// <summary>True where the vectorized path runs for rows of <paramref name="cols"/> elements.</summary>
    internal static bool UseVectors(int cols) => Vector.IsHardwareAccelerated && cols >= Vector<float>.Count;

    private static void CheckMatrix(ReadOnlySpan<float> w, int rows, int cols, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(w))] string name = "w")
    {
        Guard.NonNegative(rows, nameof(rows));
        Guard.NonNegative(cols, nameof(cols));
        Guard.Length(w, (long)rows * cols, name);
    }
}
