using System.Numerics;
using System.Runtime.Intrinsics;

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

    /// <summary>
    /// tanh on the widest accelerated path for the length: 16 lanes where AVX-512 is accelerated and n ≥ 16, else
    /// <see cref="Vector{T}"/> where n ≥ its width, else the scalar twin. The spans are assumed valid.
    /// </summary>
    internal static void TanhUnchecked(ReadOnlySpan<float> x, Span<float> y)
    {
        if (Simd512.IsAccelerated && x.Length >= Vector512<float>.Count) Simd512.Tanh(x, y);
        else if (UseVectors(x.Length)) Simd.Tanh(x, y);
        else Scalar.Tanh(x, y);
    }

    /// <summary>The sigmoid on the widest accelerated path for the length (as <see cref="TanhUnchecked"/>).</summary>
    internal static void SigmoidUnchecked(ReadOnlySpan<float> x, Span<float> y)
    {
        if (Simd512.IsAccelerated && x.Length >= Vector512<float>.Count) Simd512.Sigmoid(x, y);
        else if (UseVectors(x.Length)) Simd.Sigmoid(x, y);
        else Scalar.Sigmoid(x, y);
    }

    /// <summary>True where the vectorized path runs for <paramref name="length"/> elements.</summary>
    internal static bool UseVectors(int length) => Vector.IsHardwareAccelerated && length >= Vector<float>.Count;

    /// <summary>
    /// A lane-wise function at each vector width, so one span loop per width serves every activation (the loops are
    /// specialized per operator struct: no dispatch per vector).
    /// </summary>
    internal interface IOperator
    {
        static abstract Vector<float> Invoke(Vector<float> x);

        static abstract Vector512<float> Invoke(Vector512<float> x);
    }

    internal readonly struct TanhOperator : IOperator
    {
        public static Vector<float> Invoke(Vector<float> x) => Simd.Tanh(x);

        public static Vector512<float> Invoke(Vector512<float> x) => Simd512.Tanh(x);
    }

    internal readonly struct SigmoidOperator : IOperator
    {
        public static Vector<float> Invoke(Vector<float> x) => Simd.Sigmoid(x);

        public static Vector512<float> Invoke(Vector512<float> x) => Simd512.Sigmoid(x);
    }

    internal static void CheckUnary(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        Guard.SameLength(y.Length, x.Length, nameof(y));
        if (x.Overlaps(y, out int offset) && offset != 0)
            throw new ArgumentException("The output overlaps the input other than exactly (in-place).", nameof(y));
    }
}
