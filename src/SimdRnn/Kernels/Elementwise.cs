using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

/// <summary>
/// Small element-wise kernels used by back-propagation. Every method validates its arguments once, then runs a kernel
/// written once for every width (<see cref="VectorWidth"/>): the widest vector that fits the length, down to the
/// one-lane scalar twin, which is the same code. No method allocates.
/// </summary>
public static partial class Elementwise
{
    /// <summary>
    /// The back-propagation of <c>h = tanh(a)</c> given <c>h</c>: <c>da[i] = (1 − h[i]²) · dh[i]</c>, computed as
    /// <c>fma(−h, h, 1) · dh</c> (with FMA two roundings, so a relative error ≤ 2⁻²³; the
    /// sign of a zero and ±∞ as in the definition; the same bits at every width).
    /// <paramref name="da"/> may be the same span as <paramref name="dh"/> (or as <paramref name="h"/>).
    /// </summary>
    /// <param name="h">The tanh outputs.</param>
    /// <param name="dh">The gradient with respect to <c>h</c>.</param>
    /// <param name="da">The gradient with respect to the pre-activation <c>a</c>.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void TanhBackward(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da)
    {
        Guard.SameLength(dh.Length, h.Length, nameof(dh));
        Guard.SameLength(da.Length, h.Length, nameof(da));
        TanhBackwardUnchecked(h, dh, da);
    }

    /// <summary>Computes <c>y[i] += x[i]</c> (a bias gradient accumulates this way).</summary>
    /// <param name="x">The values to add.</param>
    /// <param name="y">The accumulator, the same length as <paramref name="x"/>; it must not overlap <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Accumulate(ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.SameLength(y.Length, x.Length, nameof(y));
        AccumulateUnchecked(x, y);
    }

    /// <summary>True when every element is finite (no NaN, no ±∞); true for an empty span.</summary>
    /// <param name="x">The values.</param>
    /// <returns>Whether all are finite.</returns>
    public static bool AllFinite(ReadOnlySpan<float> x) => AllFiniteAt(VectorWidth.For(x.Length), x);

    /// <summary><see cref="TanhBackward"/> without the checks, at the widest allowed width that fits the length.</summary>
    internal static void TanhBackwardUnchecked(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da) =>
        TanhBackwardAt(VectorWidth.For(h.Length), h, dh, da);

    /// <summary><see cref="TanhBackward"/> without the checks, at <paramref name="width"/> (whose lanes must not exceed the length).</summary>
    internal static void TanhBackwardAt(Width width, ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da)
    {
        if (h.IsEmpty) return;
        var call = new TanhBackwardCall(h, dh, da);
        VectorWidth.Run(width, ref call);
    }

    /// <summary><see cref="Accumulate"/> without the checks, at the widest allowed width that fits the length.</summary>
    internal static void AccumulateUnchecked(ReadOnlySpan<float> x, Span<float> y) => AccumulateAt(VectorWidth.For(x.Length), x, y);

    /// <summary><see cref="Accumulate"/> without the checks, at <paramref name="width"/> (whose lanes must not exceed the length).</summary>
    internal static void AccumulateAt(Width width, ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.IsEmpty) return;
        var call = new AccumulateCall(x, y);
        VectorWidth.Run(width, ref call);
    }

    /// <summary><see cref="AllFinite"/> at <paramref name="width"/> (whose lanes must not exceed the length).</summary>
    internal static bool AllFiniteAt(Width width, ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return true;
        var call = new AllFiniteCall(x);
        VectorWidth.Run(width, ref call);
        return call.Result;
    }

    private readonly ref struct TanhBackwardCall(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _h = h, _dh = dh;
        private readonly Span<float> _da = da;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.TanhBackward(_h, _dh, _da);
    }

    private readonly ref struct AccumulateCall(ReadOnlySpan<float> x, Span<float> y) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.Accumulate(_x, _y);
    }

    /// <summary>Not readonly: the call leaves its answer in <see cref="Result"/>.</summary>
    private ref struct AllFiniteCall(ReadOnlySpan<float> x) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _x = x;

        public bool Result;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Result = Kernel<TVector>.AllFinite(_x);
    }

    /// <summary>
    /// The element-wise kernels, written once for every width. Arguments are assumed valid and the length
    /// ≥ <c>TVector.Count</c>; a length that is not a multiple of Count ends with one overlapping vector over the
    /// last Count elements, of which only the new lanes are written.
    /// </summary>
    internal static class Kernel<TVector> where TVector : struct, IFloatVector<TVector>
    {
        /// <summary>da[i] = fma(−h[i], h[i], 1)·dh[i].</summary>
        public static void TanhBackward(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da)
        {
            ref float hRef = ref MemoryMarshal.GetReference(h);
            ref float dhRef = ref MemoryMarshal.GetReference(dh);
            ref float daRef = ref MemoryMarshal.GetReference(da);
            nuint n = (nuint)h.Length, step = (nuint)TVector.Count, last = n - step;
            nuint i = 0;
            for (; i + step <= n; i += step)
                TVector.Store(Step(TVector.Load(ref hRef, i), TVector.Load(ref dhRef, i)), ref daRef, i);
            if (i < n)
            {
                // The overlapping last vector. When da is dh (or h), its old lanes already hold results, which the
                // select keeps; its new lanes still hold the inputs.
                TVector old = TVector.Load(ref daRef, last);
                TVector result = Step(TVector.Load(ref hRef, last), TVector.Load(ref dhRef, last));
                TVector.Store(TVector.ConditionalSelect(TVector.TailMask(h.Length), result, old), ref daRef, last);
            }
        }

        /// <summary>
        /// (1 − h²)·dh with 1 − h² = fma(−h, h, 1) rounded once: the error is relative to the result (≤ 2 roundings),
        /// not to dh as in dh − h·(h·dh), which cancels where |h| → 1; 1 − h² ≥ +0 for |h| ≤ 1, so the product keeps
        /// dh's sign of zero, and an infinite dh gives ±∞ for |h| &lt; 1. (0 − h is −h exactly for h ≠ 0, and the sign
        /// of −h·h cannot matter when h is zero.)
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TVector Step(TVector h, TVector dh) => TVector.MultiplyAdd(TVector.Zero - h, h, TVector.One) * dh;

        /// <summary>y[i] += x[i].</summary>
        public static void Accumulate(ReadOnlySpan<float> x, Span<float> y)
        {
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            nuint n = (nuint)x.Length, step = (nuint)TVector.Count, last = n - step;
            nuint i = 0;
            for (; i + step <= n; i += step)
                TVector.Store(TVector.Load(ref yRef, i) + TVector.Load(ref xRef, i), ref yRef, i);
            if (i < n)
            {
                // The overlapping last vector: its old lanes were added already and keep their value.
                TVector old = TVector.Load(ref yRef, last);
                TVector.Store(TVector.ConditionalSelect(TVector.TailMask(x.Length), old + TVector.Load(ref xRef, last), old), ref yRef, last);
            }
        }

        /// <summary>
        /// Whether every x[i] is finite: x − x is +0 for finite x and NaN for NaN and ±∞, and a NaN survives every
        /// later addition, so Σ(x[i] − x[i]) (in any order) is 0 exactly when all are finite. Four accumulators hide
        /// the add latency; the overlapping last vector re-reads a few elements, which does not change the answer.
        /// No early exit: the usual answer is true, which needs every element anyway.
        /// </summary>
        public static bool AllFinite(ReadOnlySpan<float> x)
        {
            ref float xRef = ref MemoryMarshal.GetReference(x);
            nuint n = (nuint)x.Length, step = (nuint)TVector.Count;
            TVector a0 = TVector.Zero, a1 = TVector.Zero, a2 = TVector.Zero, a3 = TVector.Zero;
            nuint i = 0;
            for (; i + 4 * step <= n; i += 4 * step)
            {
                TVector v0 = TVector.Load(ref xRef, i), v1 = TVector.Load(ref xRef, i + step);
                TVector v2 = TVector.Load(ref xRef, i + 2 * step), v3 = TVector.Load(ref xRef, i + 3 * step);
                a0 += v0 - v0;
                a1 += v1 - v1;
                a2 += v2 - v2;
                a3 += v3 - v3;
            }
            for (; i + step <= n; i += step)
            {
                TVector v = TVector.Load(ref xRef, i);
                a0 += v - v;
            }
            if (i < n)
            {
                TVector v = TVector.Load(ref xRef, n - step);
                a1 += v - v;
            }
            return TVector.Sum((a0 + a1) + (a2 + a3)) == 0f;
        }
    }
}
