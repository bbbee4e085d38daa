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

    // The definition in double. Float32 evaluation: each of m, v is two products and a sum (≤ 3 roundings of
    // 2^-24 relative), the step α·m̂/(√v̂ + ε) a few more; so m and v agree to 4·2^-24 of their magnitude and w to
    // 2^-24·|w| plus ~8·2^-24 of the step (bounded by α·|m̂|/(√v̂ + ε)).
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
            if (Math.Abs(m[i] - em) > 4 * u * (Math.Abs(b1 * c.M[i]) + Math.Abs((1 - b1) * g)) + 1e-30) return false;
            if (Math.Abs(v[i] - ev) > 4 * u * (Math.Abs(b2 * c.V[i]) + Math.Abs((1 - b2) * g * g)) + 1e-30) return false;
            if (Math.Abs(w[i] - ew) > u * Math.Abs(ew) + 16 * u * Math.Abs(step) + 1e-30) return false;
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
