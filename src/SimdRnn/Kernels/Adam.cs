using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

/// <summary>
/// The Adam update (Kingma &amp; Ba, with bias correction, as torch.optim.Adam without weight decay) in one pass,
/// after optional element-wise gradient clipping:
/// <c>g ← clamp(g, −c, c); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; w ← w − α·m̂ / (√v̂ + ε)</c> with
/// <c>m̂ = m / (1 − β₁ᵗ)</c>, <c>v̂ = v / (1 − β₂ᵗ)</c>. One kernel written once for every width
/// (<see cref="VectorWidth"/>), of correctly rounded lane-wise operations only, so every width gives the same bits.
/// No method allocates.
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
        UpdateUnchecked(weights, gradients, firstMoments, secondMoments, Coefficients.Of(learningRate, beta1, beta2, step), beta1, beta2, epsilon, clip);
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

    /// <summary><see cref="Update"/> without the checks, at the widest allowed width that fits the length.</summary>
    internal static void UpdateUnchecked(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Coefficients c, float beta1, float beta2, float epsilon, float clip) =>
        UpdateAt(VectorWidth.For(w.Length), w, g, m, v, c, beta1, beta2, epsilon, clip);

    /// <summary><see cref="Update"/> without the checks, at <paramref name="width"/> (whose lanes must not exceed the length).</summary>
    internal static void UpdateAt(Width width, Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Coefficients c, float beta1, float beta2, float epsilon, float clip)
    {
        if (w.IsEmpty) return;
        var call = new UpdateCall(w, g, m, v, new Hyperparameters(c, beta1, beta2, epsilon, clip));
        VectorWidth.Run(width, ref call);
    }

    /// <summary>The scalars of one step, bound together for the width call.</summary>
    private readonly record struct Hyperparameters(Coefficients C, float Beta1, float Beta2, float Epsilon, float Clip);

    private readonly ref struct UpdateCall(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Hyperparameters p) : IWidthCall
    {
        private readonly Span<float> _w = w, _m = m, _v = v;
        private readonly ReadOnlySpan<float> _g = g;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> =>
            Kernel<TVector>.Update(_w, _g, _m, _v, p.C, p.Beta1, p.Beta2, p.Epsilon, p.Clip);
    }

    /// <summary>
    /// The update, written once for every width. Arguments are assumed valid and the length ≥ <c>TVector.Count</c>;
    /// the overlapping last vector writes only its new lanes of w, m and v.
    /// </summary>
    internal static class Kernel<TVector> where TVector : struct, IFloatVector<TVector>
    {
        public static void Update(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Coefficients c, float beta1, float beta2, float epsilon, float clip)
        {
            ref float wRef = ref MemoryMarshal.GetReference(w);
            ref float gRef = ref MemoryMarshal.GetReference(g);
            ref float mRef = ref MemoryMarshal.GetReference(m);
            ref float vRef = ref MemoryMarshal.GetReference(v);
            var k = new Constants(c, beta1, beta2, epsilon, clip);
            nuint n = (nuint)w.Length, step = (nuint)TVector.Count, last = n - step;
            nuint i = 0;
            for (; i + step <= n; i += step)
            {
                Step(TVector.Load(ref wRef, i), TVector.Load(ref gRef, i), TVector.Load(ref mRef, i), TVector.Load(ref vRef, i), k,
                    out TVector wNew, out TVector mNew, out TVector vNew);
                TVector.Store(mNew, ref mRef, i);
                TVector.Store(vNew, ref vRef, i);
                TVector.Store(wNew, ref wRef, i);
            }
            if (i < n)
            {
                // The overlapping last vector: its old lanes were updated already and keep their values.
                TVector wOld = TVector.Load(ref wRef, last), mOld = TVector.Load(ref mRef, last), vOld = TVector.Load(ref vRef, last);
                Step(wOld, TVector.Load(ref gRef, last), mOld, vOld, k, out TVector wNew, out TVector mNew, out TVector vNew);
                TVector newLanes = TVector.TailMask(w.Length);
                TVector.Store(TVector.ConditionalSelect(newLanes, mNew, mOld), ref mRef, last);
                TVector.Store(TVector.ConditionalSelect(newLanes, vNew, vOld), ref vRef, last);
                TVector.Store(TVector.ConditionalSelect(newLanes, wNew, wOld), ref wRef, last);
            }
        }

        /// <summary>
        /// One lane's step, unfused as the definition reads (so the bits do not depend on FMA at all):
        /// g ← min(max(g, −c), c) (IEEE: NaN stays NaN); m ← β₁·m + (1 − β₁)·g; v ← β₂·v + ((1 − β₂)·g)·g;
        /// w ← w − (StepSize·m) / (√v·SecondScale + ε).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Step(TVector w, TVector g, TVector m, TVector v, in Constants k, out TVector wNew, out TVector mNew, out TVector vNew)
        {
            TVector gc = TVector.Min(TVector.Max(g, k.Low), k.High);
            mNew = k.Beta1 * m + k.OneMinusBeta1 * gc;
            vNew = k.Beta2 * v + k.OneMinusBeta2 * gc * gc;
            wNew = w - k.StepSize * mNew / (TVector.SquareRoot(vNew) * k.SecondScale + k.Epsilon);
        }

        /// <summary>The step's scalars broadcast to every lane once per call.</summary>
        private readonly struct Constants(Coefficients c, float beta1, float beta2, float epsilon, float clip)
        {
            public readonly TVector Low = TVector.Create(-clip), High = TVector.Create(clip);
            public readonly TVector Beta1 = TVector.Create(beta1), OneMinusBeta1 = TVector.Create(1 - beta1);
            public readonly TVector Beta2 = TVector.Create(beta2), OneMinusBeta2 = TVector.Create(1 - beta2);
            public readonly TVector StepSize = TVector.Create(c.StepSize), SecondScale = TVector.Create(c.SecondScale);
            public readonly TVector Epsilon = TVector.Create(epsilon);
        }
    }
}
