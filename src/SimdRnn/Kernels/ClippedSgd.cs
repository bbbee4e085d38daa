using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SimdRnn.Kernels;

/// <summary>
/// The clipped stochastic-gradient-descent update in one pass: <c>w ← w − lr · clamp(g, −c, c)</c>,
/// element-wise value clipping as in the seed document (not norm clipping). No method allocates.
/// </summary>
public static partial class ClippedSgd
{
    /// <summary>Applies <c>w[i] −= learningRate · clamp(g[i], −clip, clip)</c>.</summary>
    /// <param name="weights">The parameters to update.</param>
    /// <param name="gradients">The gradients, the same length as <paramref name="weights"/>.</param>
    /// <param name="learningRate">The step size (finite).</param>
    /// <param name="clip">The clipping bound c &gt; 0; <see cref="float.PositiveInfinity"/> turns clipping off.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is not finite, or the bound is not positive.</exception>
    public static void Update(Span<float> weights, ReadOnlySpan<float> gradients, float learningRate, float clip)
    {
        Guard.SameLength(gradients.Length, weights.Length, nameof(gradients));
        CheckHyperparameters(learningRate, clip);
        if (Vector.IsHardwareAccelerated && weights.Length >= Vector<float>.Count) Simd.Update(weights, gradients, learningRate, clip);
        else Scalar.Update(weights, gradients, learningRate, clip);
    }

    internal static void CheckHyperparameters(float learningRate, float clip)
    {
        if (!float.IsFinite(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be finite.");
        if (!(clip > 0f))
            throw new ArgumentOutOfRangeException(nameof(clip), clip, "The clipping bound must be positive (PositiveInfinity turns clipping off).");
    }

    /// <summary>The scalar twin: the definition, element by element.</summary>
    internal static class Scalar
    {
        public static void Update(Span<float> w, ReadOnlySpan<float> g, float lr, float clip)
        {
            for (int i = 0; i < w.Length; i++) w[i] -= lr * Math.Clamp(g[i], -clip, clip);
        }
    }

    /// <summary>The vectorized kernel; requires <c>w.Length ≥ Vector&lt;float&gt;.Count</c>.</summary>
    internal static class Simd
    {
        public static void Update(Span<float> w, ReadOnlySpan<float> g, float lr, float clip)
        {
            ref float wRef = ref MemoryMarshal.GetReference(w);
            ref float gRef = ref MemoryMarshal.GetReference(g);
            var lo = new Vector<float>(-clip);
            var hi = new Vector<float>(clip);
            var negLr = new Vector<float>(-lr);
            int n = w.Length, count = Vector<float>.Count;
            int i = 0;
            for (; i <= n - count; i += count)
            {
                // w += (−lr) · clamp(g, −c, c)
                var gv = Vector.Min(Vector.Max(Vector.LoadUnsafe(ref gRef, (nuint)i), lo), hi);
                var wv = Vector.LoadUnsafe(ref wRef, (nuint)i);
                Vector.MultiplyAddEstimate(negLr, gv, wv).StoreUnsafe(ref wRef, (nuint)i);
            }
            if (i < n)
            {
                // One overlapping vector over the last Count elements; only its new lanes are written.
                int last = n - count;
                var gv = Vector.Min(Vector.Max(Vector.LoadUnsafe(ref gRef, (nuint)last), lo), hi);
                var wv = Vector.LoadUnsafe(ref wRef, (nuint)last);
                var updated = Vector.MultiplyAddEstimate(negLr, gv, wv);
                Vector.ConditionalSelect(VectorTail.NewLanes(n), updated, wv).StoreUnsafe(ref wRef, (nuint)last);
            }
        }
    }
}
