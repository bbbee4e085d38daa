using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;

namespace SimdRnn.Tests.Kernels;

[Trait("Category", "Kernels")]
public class AdamTests
{
    private delegate void Kernel(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Adam.Coefficients c, float beta1, float beta2, float epsilon, float clip);

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
    private static bool Matches(Kernel kernel, (float[] W, float[] G, float[] M, float[] V, int Step, float Clip) c, bool publicEntry)
    {
        const float lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        float[] w = (float[])c.W.Clone(), m = (float[])c.M.Clone(), v = (float[])c.V.Clone();
        if (publicEntry) Adam.Update(w, c.G, m, v, lr, b1, b2, eps, c.Step, c.Clip);
        else kernel(w, c.G, m, v, Adam.Coefficients.Of(lr, b1, b2, c.Step), b1, b2, eps, c.Clip);
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
    public Property Public_update_matches_the_definition() => Prop.ForAll(Cases(), c => Matches(null!, c, publicEntry: true));

    [Property(MaxTest = 200)]
    public Property Scalar_twin_matches_the_definition() => Prop.ForAll(Cases(), c => Matches(Adam.Scalar.Update, c, false));

    [Property(MaxTest = 200)]
    public Property Vector_path_matches_the_definition() =>
        Prop.ForAll(Cases(), c => c.W.Length < Vector<float>.Count || Matches(Adam.Simd.Update, c, false));

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
