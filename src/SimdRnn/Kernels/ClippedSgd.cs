using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

/// <summary>
/// The clipped stochastic-gradient-descent update in one pass: <c>w ← w − lr · clamp(g, −c, c)</c>,
/// element-wise value clipping as in the seed document (not norm clipping). The update is computed as the fused
/// multiply-add <c>w + (−lr)·clamp(g, −c, c)</c> (one rounding) by a kernel written once for every width
/// (<see cref="VectorWidth"/>), so every width gives the same bits. No method allocates.
/// </summary>
public static partial class ClippedSgd
{
    /// <summary>Applies <c>w[i] −= learningRate · clamp(g[i], −clip, clip)</c>.</summary>
    /// <remarks>
    /// The clamp is the IEEE <c>min(max(g, −clip), clip)</c>: a NaN gradient stays NaN (and so makes its weight NaN),
    /// ±∞ is clipped to ±clip (or, with clipping off, makes its weight ∓∞).
    /// </remarks>
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
        UpdateUnchecked(weights, gradients, learningRate, clip);
    }

    internal static void CheckHyperparameters(float learningRate, float clip)
    {
        if (!float.IsFinite(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be finite.");
        if (!(clip > 0f))
            throw new ArgumentOutOfRangeException(nameof(clip), clip, "The clipping bound must be positive (PositiveInfinity turns clipping off).");
    }

    /// <summary><see cref="Update"/> without the checks, at the widest allowed width that fits the length.</summary>
    internal static void UpdateUnchecked(Span<float> weights, ReadOnlySpan<float> gradients, float learningRate, float clip) =>
        UpdateAt(VectorWidth.For(weights.Length), weights, gradients, learningRate, clip);

    /// <summary><see cref="Update"/> without the checks, at <paramref name="width"/> (whose lanes must not exceed the length).</summary>
    internal static void UpdateAt(Width width, Span<float> weights, ReadOnlySpan<float> gradients, float learningRate, float clip)
    {
        if (weights.IsEmpty) return;
        var call = new UpdateCall(weights, gradients, learningRate, clip);
        VectorWidth.Run(width, ref call);
    }

    private readonly ref struct UpdateCall(Span<float> w, ReadOnlySpan<float> g, float learningRate, float clip) : IWidthCall
    {
        private readonly Span<float> _w = w;
        private readonly ReadOnlySpan<float> _g = g;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.Update(_w, _g, learningRate, clip);
    }

    /// <summary>
    /// The update, written once for every width. Arguments are assumed valid and the length ≥ <c>TVector.Count</c>;
    /// the overlapping last vector writes only its new lanes.
    /// </summary>
    internal static class Kernel<TVector> where TVector : struct, IFloatVector<TVector>
    {
        /// <summary>w[i] = fma(−lr, min(max(g[i], −c), c), w[i]).</summary>
        public static void Update(Span<float> w, ReadOnlySpan<float> g, float lr, float clip)
        {
            ref float wRef = ref MemoryMarshal.GetReference(w);
            ref float gRef = ref MemoryMarshal.GetReference(g);
            TVector lo = TVector.Create(-clip), hi = TVector.Create(clip), negLr = TVector.Create(-lr);
            nuint n = (nuint)w.Length, step = (nuint)TVector.Count, last = n - step;
            nuint i = 0;
            for (; i + step <= n; i += step)
                TVector.Store(Step(TVector.Load(ref wRef, i), TVector.Load(ref gRef, i), lo, hi, negLr), ref wRef, i);
            if (i < n)
            {
                // The overlapping last vector: its old lanes were updated already and keep their value.
                TVector old = TVector.Load(ref wRef, last);
                TVector updated = Step(old, TVector.Load(ref gRef, last), lo, hi, negLr);
                TVector.Store(TVector.ConditionalSelect(TVector.TailMask(w.Length), updated, old), ref wRef, last);
            }
        }

        /// <summary>w + (−lr)·clamp(g, lo, hi), the clamp by IEEE max then min (NaN stays NaN).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TVector Step(TVector w, TVector g, TVector lo, TVector hi, TVector negLr) =>
            TVector.MultiplyAdd(negLr, TVector.Min(TVector.Max(g, lo), hi), w);
    }
}
