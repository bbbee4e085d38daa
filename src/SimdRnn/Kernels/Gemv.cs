using System.Numerics;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

/// <summary>
/// Dense matrix-vector kernels over a row-major matrix <c>W</c> of <c>rows × cols</c> floats
/// (element <c>W[i, j]</c> at <c>w[i * cols + j]</c>). Every method validates its arguments once, then runs a
/// kernel written once for every width (<see cref="VectorWidth"/>): the widest vector that fits a row, with fused
/// multiply-add where the hardware has it, down to the one-lane scalar twin. No method allocates.
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
        MultiplyAccumulateUnchecked(w, rows, cols, x, y);
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
        MultiplyAccumulateUnchecked(w, rows, cols, x, y);
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
        MultiplyTransposedAccumulateUnchecked(w, rows, cols, x, y);
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
        AddOuterProductUnchecked(g, rows, cols, a, b);
    }

    /// <summary><see cref="MultiplyAccumulate"/> without the checks, at the widest width that fits a row.</summary>
    internal static void MultiplyAccumulateUnchecked(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        MultiplyAccumulateAt(VectorWidth.For(cols), w, rows, cols, x, y);

    /// <summary><see cref="MultiplyAccumulate"/> without the checks, at <paramref name="width"/> (whose lanes must fit a row).</summary>
    internal static void MultiplyAccumulateAt(Width width, ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        if (rows == 0 || cols == 0) return; // nothing to add (and no tail vector to form from an empty row)
        var call = new MultiplyAccumulateCall(w, rows, cols, x, y);
        VectorWidth.Run(width, ref call);
    }

    /// <summary><see cref="MultiplyTransposedAccumulate"/> without the checks, at the widest width that fits a row.</summary>
    internal static void MultiplyTransposedAccumulateUnchecked(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        MultiplyTransposedAccumulateAt(VectorWidth.For(cols), w, rows, cols, x, y);

    /// <summary><see cref="MultiplyTransposedAccumulate"/> without the checks, at <paramref name="width"/>.</summary>
    internal static void MultiplyTransposedAccumulateAt(Width width, ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        if (rows == 0 || cols == 0) return; // nothing to add (and no tail vector to form from an empty row)
        var call = new MultiplyTransposedCall(w, rows, cols, x, y);
        VectorWidth.Run(width, ref call);
    }

    /// <summary><see cref="AddOuterProduct"/> without the checks, at the widest width that fits a row.</summary>
    internal static void AddOuterProductUnchecked(Span<float> g, int rows, int cols, ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        AddOuterProductAt(VectorWidth.For(cols), g, rows, cols, a, b);

    /// <summary><see cref="AddOuterProduct"/> without the checks, at <paramref name="width"/>.</summary>
    internal static void AddOuterProductAt(Width width, Span<float> g, int rows, int cols, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (rows == 0 || cols == 0) return; // nothing to add (and no tail vector to form from an empty row)
        var call = new OuterProductCall(g, rows, cols, a, b);
        VectorWidth.Run(width, ref call);
    }

    private readonly ref struct MultiplyAccumulateCall(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _w = w, _x = x;
        private readonly Span<float> _y = y;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.MultiplyAccumulate(_w, rows, cols, _x, _y);
    }

    private readonly ref struct MultiplyTransposedCall(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _w = w, _x = x;
        private readonly Span<float> _y = y;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.MultiplyTransposedAccumulate(_w, rows, cols, _x, _y);
    }

    private readonly ref struct OuterProductCall(Span<float> g, int rows, int cols, ReadOnlySpan<float> a, ReadOnlySpan<float> b) : IWidthCall
    {
        private readonly Span<float> _g = g;
        private readonly ReadOnlySpan<float> _a = a, _b = b;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.AddOuterProduct(_g, rows, cols, _a, _b);
    }

    private static void CheckMatrix(ReadOnlySpan<float> w, int rows, int cols, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(w))] string name = "w")
    {
        Guard.NonNegative(rows, nameof(rows));
        Guard.NonNegative(cols, nameof(cols));
        Guard.Length(w, (long)rows * cols, name);
    }
}
