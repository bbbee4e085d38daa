using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

/// <summary>
/// Element-wise tanh and logistic sigmoid over spans, by polynomial approximation.
/// Bounds (measured, see docs/accuracy.md): max absolute error ≤ 3e-7 against double precision on [−20, 20];
/// relative error ≤ 1e-6 for 0 &lt; |x| &lt; 1e-3; tanh(±0) = ±0, tanh(±∞) = ±1, sigmoid(−∞) = 0, sigmoid(+∞) = 1,
/// NaN → NaN; results stay in [−1, 1] and [0, 1]. No method allocates.
/// </summary>
public static partial class Activations
{
    /// <summary>Computes <c>y[i] = tanh(x[i])</c>. <paramref name="x"/> and <paramref name="y"/> may be the same span.</summary>
    /// <param name="x">The inputs.</param>
    /// <param name="y">The outputs, the same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">The lengths differ, or the spans overlap other than exactly.</exception>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckUnary(x, y);
        TanhUnchecked(x, y);
    }

    /// <summary>Computes <c>y[i] = 1 / (1 + exp(−x[i]))</c>. <paramref name="x"/> and <paramref name="y"/> may be the same span.</summary>
    /// <param name="x">The inputs.</param>
    /// <param name="y">The outputs, the same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">The lengths differ, or the spans overlap other than exactly.</exception>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckUnary(x, y);
        SigmoidUnchecked(x, y);
    }

    /// <summary>tanh at the widest allowed width that fits the length (the spans are assumed valid).</summary>
    internal static void TanhUnchecked(ReadOnlySpan<float> x, Span<float> y) => TanhAt(VectorWidth.For(x.Length), x, y);

    /// <summary>The sigmoid at the widest allowed width that fits the length (the spans are assumed valid).</summary>
    internal static void SigmoidUnchecked(ReadOnlySpan<float> x, Span<float> y) => SigmoidAt(VectorWidth.For(x.Length), x, y);

    /// <summary>tanh at <paramref name="width"/> (whose lanes must not exceed the length).</summary>
    internal static void TanhAt(Width width, ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.IsEmpty) return;
        var call = new MapCall<TanhOperator>(x, y);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>The sigmoid at <paramref name="width"/> (whose lanes must not exceed the length).</summary>
    internal static void SigmoidAt(Width width, ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.IsEmpty) return;
        var call = new MapCall<SigmoidOperator>(x, y);
        VectorWidth.Run(width, ref call);
    }

    private readonly ref struct MapCall<TOperator>(ReadOnlySpan<float> x, Span<float> y) : IWidthCall where TOperator : ILaneOperator
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Map<TOperator, TVector>.Run(_x, _y);
    }

    /// <summary>One-lane tanh and sigmoid for callers that work on single floats.</summary>
    internal static class Scalar
    {
        public static float Tanh(float x) => Lanes<ScalarFloat>.Tanh(new(x)).Value;

        public static float Sigmoid(float x) => Lanes<ScalarFloat>.Sigmoid(new(x)).Value;
    }

    internal static void CheckUnary(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        Guard.SameLength(y.Length, x.Length, nameof(y));
        if (x.Overlaps(y, out int offset) && offset != 0)
            throw new ArgumentException("The output overlaps the input other than exactly (in-place).", nameof(y));
    }
}
