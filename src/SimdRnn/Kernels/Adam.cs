using System.Numerics;
using System.Runtime.InteropServices;

namespace SimdRnn.Kernels;

/// <summary>
/// The Adam update (Kingma &amp; Ba, with bias correction, as torch.optim.Adam without weight decay) in one pass,
/// after optional element-wise gradient clipping:
/// <c>g ← clamp(g, −c, c); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; w ← w − α·m̂ / (√v̂ + ε)</c> with
/// <c>m̂ = m / (1 − β₁ᵗ)</c>, <c>v̂ = v / (1 − β₂ᵗ)</c>. No method allocates.
/// </summary>
public static partial class Adam
{
    /// <summary>Applies one Adam step <paramref name="step"/> (1 for the first) to every element.</summary>
    /// <param name="weights">The parameters to update.</param>
    /// <param name="gradients">The gradients (same length).</param>
    /// <param name="firstMoments">m, updated in place (same length; zeros before the first step).</param>
    /// <param name="secondMoments">v, updated in place (same length; zeros before the first step).</param>
    /// <param name="learningRate">α (finite).</param>
    /// <param name="beta1">β₁ in [0, 1).</param>
    /// <param name="beta2">β₂ in [0, 1).</param>
    /// <param name="epsilon">ε &gt; 0.</param>
    /// <param name="step">t ≥ 1.</param>
    /// <param name="clip">The element-wise gradient clip c &gt; 0; <see cref="float.PositiveInfinity"/> for none.</param>
    /// <exception cref="ArgumentException">A length differs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public static void Update(Span<float> weights, ReadOnlySpan<float> gradients, Span<float> firstMoments, Span<float> secondMoments,
        float learningRate, float beta1, float beta2, float epsilon, int step, float clip = float.PositiveInfinity)
    {
        Guard.SameLength(gradients.Length, weights.Length, nameof(gradients));
        Guard.SameLength(firstMoments.Length, weights.Length, nameof(firstMoments));
        Guard.SameLength(secondMoments.Length, weights.Length, nameof(secondMoments));
        CheckHyperparameters(learningRate, beta1, beta2, epsilon, clip);
        Guard.Positive(step, nameof(step));
        var c = Coefficients.Of(learningRate, beta1, beta2, step);
        if (Vector.IsHardwareAccelerated && weights.Length >= Vector<float>.Count) Simd.Update(weights, gradients, firstMoments, secondMoments, c, beta1, beta2, epsilon, clip);
        else Scalar.Update(weights, gradients, firstMoments, secondMoments, c, beta1, beta2, epsilon, clip);
    }

    internal static void CheckHyperparameters(float learningRate, float beta1, float beta2, float epsilon, float clip)
    {
        ClippedSgd.CheckHyperparameters(learningRate, clip);
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Must be in [0, 1).");
        if (!(epsilon > 0 && float.IsFinite(epsilon))) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Must be positive and finite.");
    }

    /// <summary>
    /// The step's scalars: w ← w − α·(m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε) = w − (α / (1 − β₁ᵗ))·m / (√v·(1/√(1 − β₂ᵗ)) + ε).
    /// </summary>
    internal readonly record struct Coefficients(float StepSize, float SecondScale)
    {
        public static Coefficients Of(float learningRate, float beta1, float beta2, int step) =>
            new((float)(learningRate / (1 - Math.Pow(beta1, step))), (float)(1 / Math.Sqrt(1 - Math.Pow(beta2, step))));
    }

    /// <summary>The scalar twin: the definition, element by element.</summary>
    internal static class Scalar
    {
        public static void Update(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Coefficients c, float beta1, float beta2, float epsilon, float clip)
        {
            for (int i = 0; i < w.Length; i++)
            {
                float gi = Math.Clamp(g[i], -clip, clip);
                m[i] = beta1 * m[i] + (1 - beta1) * gi;
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
                w[i] -= c.StepSize * m[i] / (MathF.Sqrt(v[i]) * c.SecondScale + epsilon);
            }
        }
    }

    /// <summary>The vectorized kernel; requires length ≥ Vector&lt;float&gt;.Count.</summary>
    internal static class Simd
    {
        public static void Update(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Coefficients c, float beta1, float beta2, float epsilon, float clip)
        {
            ref float wr = ref MemoryMarshal.GetReference(w);
            ref float gr = ref MemoryMarshal.GetReference(g);
            ref float mr = ref MemoryMarshal.GetReference(m);
            ref float vr = ref MemoryMarshal.GetReference(v);
            int n = w.Length, count = Vector<float>.Count;
            var lo = new Vector<float>(-clip);
            var hi = new Vector<float>(clip);
            var b1 = new Vector<float>(beta1);
            var b2 = new Vector<float>(beta2);
            var oneMinusB1 = new Vector<float>(1 - beta1);
            var oneMinusB2 = new Vector<float>(1 - beta2);
            var step = new Vector<float>(c.StepSize);
            var scale = new Vector<float>(c.SecondScale);
            var eps = new Vector<float>(epsilon);
            for (int i = 0; ; i += count)
            {
                bool last = i > n - count;
                if (last) i = n - count; // one overlapping vector; only its new lanes are stored below
                var keep = last ? VectorTail.NewLanes(n) : Vector<int>.AllBitsSet;
                var gv = Vector.Min(Vector.Max(Vector.LoadUnsafe(ref gr, (nuint)i), lo), hi);
                var mOld = Vector.LoadUnsafe(ref mr, (nuint)i);
                var vOld = Vector.LoadUnsafe(ref vr, (nuint)i);
                var wOld = Vector.LoadUnsafe(ref wr, (nuint)i);
                var mv = b1 * mOld + oneMinusB1 * gv;
                var vv = b2 * vOld + oneMinusB2 * gv * gv;
                var wv = wOld - step * mv / (Vector.SquareRoot(vv) * scale + eps);
                Vector.ConditionalSelect(keep, mv, mOld).StoreUnsafe(ref mr, (nuint)i);
                Vector.ConditionalSelect(keep, vv, vOld).StoreUnsafe(ref vr, (nuint)i);
                Vector.ConditionalSelect(keep, wv, wOld).StoreUnsafe(ref wr, (nuint)i);
                if (i == n - count) break;
            }
        }
    }
}
