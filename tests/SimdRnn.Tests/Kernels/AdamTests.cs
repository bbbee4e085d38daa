using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Kernels;

/// <summary>
/// The Adam update at every width this machine has (<see cref="Widths.Fitting"/>, the scalar width always) and through
/// the public entry, against the definition evaluated here in double precision.
/// </summary>
[Trait("Category", "Kernels")]
public class AdamTests
{
    private static Arbitrary<(float[] W, float[] G, float[] M, float[] V, int Step, float Clip)> Cases() =>
        (from n in Gen.Choose(0, 67)
         from w in Gen.Choose(-1000, 1000).Select(x => x / 100f).ArrayOf(n)
         from g in Gen.Choose(-10000, 10000).Select(x => x / 1000f).ArrayOf(n)
         from m in Gen.Choose(-1000, 1000).Select(x => x / 1000f).ArrayOf(n)
         from v in Gen.Choose(0, 1000).Select(x => x / 1000f).ArrayOf(n)
         from step in Gen.Choose(1, 1000)
         from clip in Gen.Elements(float.PositiveInfinity, 5f, 0.5f)
         select (w, g, m, v, step, clip)).ToArbitrary();

    // The definition in double. Float32 evaluation: each of m, v is two products and a sum (≤ 4 roundings of
    // 2^-24 relative to the terms); the step α·m̂/(√v̂ + ε) adds a few more, and inherits m's and v's errors, which
    // matter where m cancels (β₁m ≈ −(1 − β₁)g); the bounds below follow each error to w.
    private const float Lr = 0.01f, B1 = 0.9f, B2 = 0.999f, Eps = 1e-8f;

    /// <summary>Runs one step at <paramref name="width"/> (null: the public entry) on copies; returns (w, m, v).</summary>
    private static (float[] W, float[] M, float[] V) Run(Width? width, (float[] W, float[] G, float[] M, float[] V, int Step, float Clip) c)
    {
        float[] w = (float[])c.W.Clone(), m = (float[])c.M.Clone(), v = (float[])c.V.Clone();
        if (width is { } at) Adam.UpdateAt(at, w, c.G, m, v, Adam.Coefficients.Of(Lr, B1, B2, c.Step), B1, B2, Eps, c.Clip);
        else Adam.Update(w, c.G, m, v, Lr, B1, B2, Eps, c.Step, c.Clip);
        return (w, m, v);
    }

    private static bool Matches(Width? width, (float[] W, float[] G, float[] M, float[] V, int Step, float Clip) c)
    {
        const float lr = Lr, b1 = B1, b2 = B2, eps = Eps;
        var (w, m, v) = Run(width, c);
        const double u = 1.0 / (1 << 24);
        for (int i = 0; i < w.Length; i++)
        {
            double g = Math.Clamp((double)c.G[i], -c.Clip, c.Clip);
            double em = (double)b1 * c.M[i] + (1 - (double)b1) * g;
            double ev = (double)b2 * c.V[i] + (1 - (double)b2) * g * g;
            double mHat = em / (1 - Math.Pow(b1, c.Step)), vHat = ev / (1 - Math.Pow(b2, c.Step));
            double step = lr * mHat / (Math.Sqrt(vHat) + eps);
            double ew = c.W[i] - step;
            // m and v: up to 4 roundings, each relative to the terms' magnitudes (not to m, which can cancel).
            double mBound = 4 * u * (Math.Abs(b1 * c.M[i]) + Math.Abs((1 - b1) * g)) + 1e-30;
            double vBound = 4 * u * (Math.Abs(b2 * c.V[i]) + Math.Abs((1 - b2) * g * g)) + 1e-30;
            if (Math.Abs(m[i] - em) > mBound || Math.Abs(v[i] - ev) > vBound) return false;
            // w: its own rounding, the step's ~8 roundings, and the step's sensitivity to the errors in m and v:
            // ∂step/∂m = α̂/(√v̂ + ε), |∂step/∂v| ≤ |step|/(2v̂)·… bounded via √(v̂ + Δv̂) − √v̂ ≤ √Δv̂.
            double biasM = 1 - Math.Pow(b1, c.Step), biasV = 1 - Math.Pow(b2, c.Step);
            double denominator = Math.Sqrt(vHat) + eps;
            double fromM = lr / biasM * mBound / denominator;
            double fromV = Math.Abs(step) * Math.Sqrt(vBound / biasV) / denominator;
            if (Math.Abs(w[i] - ew) > u * Math.Abs(ew) + 16 * u * Math.Abs(step) + fromM + fromV + 1e-30) return false;
        }
        return true;
    }

    [Property(MaxTest = 200)]
    public Property Update_matches_the_definition_at_every_width() => Prop.ForAll(Cases(), c =>
    {
        if (!Matches(null, c)) return false;
        foreach (var width in Widths.Fitting(c.W.Length))
            if (!Matches(width, c)) return false;
        return true;
    });

    private static bool SameBits(float a, float b) =>
        BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b));

    /// <summary>As <see cref="Cases"/>, with an occasional NaN, ±∞, ±0 or huge gradient (the moments stay valid).</summary>
    private static Arbitrary<(float[] W, float[] G, float[] M, float[] V, int Step, float Clip)> SpecialCases()
    {
        var special = Gen.Elements(float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, float.MaxValue, float.MinValue, 1e-40f);
        return (from n in Gen.Choose(0, 67)
                from w in Gen.Choose(-1000, 1000).Select(x => x / 100f).ArrayOf(n)
                from g in Gen.Frequency((6, Gen.Choose(-10000, 10000).Select(x => x / 1000f)), (1, special)).ArrayOf(n)
                from m in Gen.Choose(-1000, 1000).Select(x => x / 1000f).ArrayOf(n)
                from v in Gen.Frequency((6, Gen.Choose(0, 1000).Select(x => x / 1000f)), (1, Gen.Constant(0f))).ArrayOf(n)
                from step in Gen.Choose(1, 1000)
                from clip in Gen.Elements(float.PositiveInfinity, 5f, 0.5f)
                select (w, g, m, v, step, clip)).ToArbitrary();
    }

    [Property(MaxTest = 200)]
    public Property Update_gives_the_same_bits_at_every_width() => Prop.ForAll(SpecialCases(), c =>
    {
        // Lane-wise and made of correctly rounded operations only (+, −, ×, ÷, √, IEEE min/max; no multiply-add), so
        // every width computes the same bits, NaN and ±∞ included.
        var scalar = Run(Width.Scalar, c);
        foreach (var width in Widths.Fitting(c.W.Length))
        {
            var (w, m, v) = Run(width, c);
            for (int i = 0; i < w.Length; i++)
                if (!SameBits(w[i], scalar.W[i]) || !SameBits(m[i], scalar.M[i]) || !SameBits(v[i], scalar.V[i])) return false;
        }
        return true;
    });

    [Fact]
    public void Non_finite_gradients_clip_or_propagate_at_every_width()
    {
        // With clip 1, ±∞ is clipped to ±1: m = ±0.1 and v = 0.001 at step 1 (from zeros), so the weight moves by ∓lr·(1 ± tiny).
        // NaN stays NaN in m, v and w. Without clipping, ∞ makes m = ∞, v = ∞ and the step ∞/∞ = NaN.
        float[] g = new float[19];
        for (int i = 0; i < g.Length; i++) g[i] = (i % 3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity };
        foreach (var width in Widths.Fitting(g.Length))
        {
            float[] w = new float[19], m = new float[19], v = new float[19];
            Adam.UpdateAt(width, w, g, m, v, Adam.Coefficients.Of(Lr, B1, B2, 1), B1, B2, Eps, 1f);
            float[] wf = new float[19], mf = new float[19], vf = new float[19];
            Adam.UpdateAt(width, wf, g, mf, vf, Adam.Coefficients.Of(Lr, B1, B2, 1), B1, B2, Eps, float.PositiveInfinity);
            for (int i = 0; i < g.Length; i++)
            {
                if (i % 3 == 0)
                {
                    Assert.True(float.IsNaN(w[i]) && float.IsNaN(m[i]) && float.IsNaN(v[i]), $"{width} lane {i}: NaN gradient");
                }
                else
                {
                    float sign = i % 3 == 1 ? 1f : -1f;
                    Assert.Equal(sign * (1 - B1), m[i], 1e-7f);
                    Assert.Equal(1 - B2, v[i], 1e-7f);
                    Assert.Equal(-sign * Lr, w[i], 1e-6f);
                    Assert.True(float.IsInfinity(mf[i]) && float.IsPositiveInfinity(vf[i]) && float.IsNaN(wf[i]), $"{width} lane {i}: unclipped ∞");
                }
            }
        }
    }

    [Fact]
    public void Nothing_allocates_at_any_width()
    {
        float[] w = new float[67], g = new float[67], m = new float[67], v = new float[67];
        for (int i = 0; i < g.Length; i++) g[i] = i - 30f;
        Assert.Equal(0, Allocations.Of(() => Adam.Update(w, g, m, v, Lr, B1, B2, Eps, 3, 5f)));
        var coefficients = Adam.Coefficients.Of(Lr, B1, B2, 3);
        foreach (var width in Widths.Fitting(w.Length))
            Assert.Equal(0, Allocations.Of(() => Adam.UpdateAt(width, w, g, m, v, coefficients, B1, B2, Eps, 5f)));
    }

    [Fact]
    public void Bad_hyperparameters_are_rejected()
    {
        float[] w = new float[3], g = new float[3], m = new float[3], v = new float[3];
        Assert.Equal("beta1", Assert.Throws<ArgumentOutOfRangeException>(() => Adam.Update(w, g, m, v, 0.1f, 1f, 0.9f, 1e-8f, 1)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => Adam.Update(w, g, m, v, 0.1f, 0.9f, 0.9f, 0f, 1)).ParamName);
        Assert.Equal("step", Assert.Throws<ArgumentOutOfRangeException>(() => Adam.Update(w, g, m, v, 0.1f, 0.9f, 0.9f, 1e-8f, 0)).ParamName);
        Assert.Equal("secondMoments", Assert.Throws<ArgumentException>(() => Adam.Update(w, g, m, new float[2], 0.1f, 0.9f, 0.9f, 1e-8f, 1)).ParamName);
    }
}
