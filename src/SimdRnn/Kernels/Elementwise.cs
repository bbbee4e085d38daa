using System.Numerics;
using System.Runtime.InteropServices;

namespace SimdRnn.Kernels;

/// <summary>Small element-wise kernels used by back-propagation. No method allocates.</summary>
public static partial class Elementwise
{
    /// <summary>
    /// The back-propagation of <c>h = tanh(a)</c> given <c>h</c>: <c>da[i] = (1 − h[i]²) · dh[i]</c>.
    /// <paramref name="da"/> may be the same span as <paramref name="dh"/>.
    /// </summary>
    /// <param name="h">The tanh outputs.</param>
    /// <param name="dh">The gradient with respect to <c>h</c>.</param>
    /// <param name="da">The gradient with respect to the pre-activation <c>a</c>.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void TanhBackward(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da)
    {
        Guard.SameLength(dh.Length, h.Length, nameof(dh));
        Guard.SameLength(da.Length, h.Length, nameof(da));
        if (Vector.IsHardwareAccelerated && h.Length >= Vector<float>.Count) Simd.TanhBackward(h, dh, da);
        else Scalar.TanhBackward(h, dh, da);
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

    /// <summary><see cref="Accumulate"/> without the checks.</summary>
    internal static void AccumulateUnchecked(ReadOnlySpan<float> x, Span<float> y)
    {
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count) Simd.Accumulate(x, y);
        else Scalar.Accumulate(x, y);
    }

    /// <summary>True when every element is finite (no NaN, no ±∞).</summary>
    /// <param name="x">The values.</param>
    /// <returns>Whether all are finite.</returns>
    public static bool AllFinite(ReadOnlySpan<float> x) =>
        Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count ? Simd.AllFinite(x) : Scalar.AllFinite(x);

    /// <summary>The scalar twins.</summary>
    internal static class Scalar
    {
        public static bool AllFinite(ReadOnlySpan<float> x)
        {
            foreach (float v in x)
                if (!float.IsFinite(v)) return false;
            return true;
        }

        public static void TanhBackward(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da)
        {
            for (int i = 0; i < h.Length; i++) da[i] = (1f - h[i] * h[i]) * dh[i];
        }

        public static void Accumulate(ReadOnlySpan<float> x, Span<float> y)
        {
            for (int i = 0; i < x.Length; i++) y[i] += x[i];
        }
    }

    /// <summary>The vectorized kernels; they require length ≥ Vector&lt;float&gt;.Count.</summary>
    internal static class Simd
    {
        public static void TanhBackward(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da)
        {
            ref float hRef = ref MemoryMarshal.GetReference(h);
            ref float dhRef = ref MemoryMarshal.GetReference(dh);
            ref float daRef = ref MemoryMarshal.GetReference(da);
            int n = h.Length, count = Vector<float>.Count;
            // The last vector is computed from the inputs before anything is stored, so da may alias dh.
            int last = n - count;
            var tail = Step(Vector.LoadUnsafe(ref hRef, (nuint)last), Vector.LoadUnsafe(ref dhRef, (nuint)last));
            for (int i = 0; i < last; i += count)
                Step(Vector.LoadUnsafe(ref hRef, (nuint)i), Vector.LoadUnsafe(ref dhRef, (nuint)i)).StoreUnsafe(ref daRef, (nuint)i);
            tail.StoreUnsafe(ref daRef, (nuint)last);

            // (1 − h²)·dh = dh − h·(h·dh)
            static Vector<float> Step(Vector<float> hv, Vector<float> dhv) => Vector.MultiplyAddEstimate(-hv, hv * dhv, dhv);
        }

        public static bool AllFinite(ReadOnlySpan<float> x)
        {
            // v − v is 0 for every finite v and NaN for NaN and ±∞; an overlapping last vector covers the tail.
            ref float xRef = ref MemoryMarshal.GetReference(x);
            int n = x.Length, count = Vector<float>.Count;
            var bad = Vector<int>.Zero;
            for (int i = 0; i < n - count; i += count)
            {
                var v = Vector.LoadUnsafe(ref xRef, (nuint)i);
                bad |= ~Vector.Equals(v - v, Vector<float>.Zero);
            }
            var last = Vector.LoadUnsafe(ref xRef, (nuint)(n - count));
            bad |= ~Vector.Equals(last - last, Vector<float>.Zero);
            return bad == Vector<int>.Zero;
        }

        public static void Accumulate(ReadOnlySpan<float> x, Span<float> y)
        {
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            int n = x.Length, count = Vector<float>.Count;
            int i = 0;
            for (; i <= n - count; i += count)
                (Vector.LoadUnsafe(ref yRef, (nuint)i) + Vector.LoadUnsafe(ref xRef, (nuint)i)).StoreUnsafe(ref yRef, (nuint)i);
            if (i < n)
            {
                // One overlapping vector over the last Count elements; only its new lanes change.
                int last = n - count;
                var old = Vector.LoadUnsafe(ref yRef, (nuint)last);
                Vector.ConditionalSelect(VectorTail.NewLanes(n), old + Vector.LoadUnsafe(ref xRef, (nuint)last), old).StoreUnsafe(ref yRef, (nuint)last);
            }
        }
    }
}
