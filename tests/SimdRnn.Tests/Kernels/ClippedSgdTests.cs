using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;

namespace SimdRnn.Tests.Kernels;

[Trait("Category", "Kernels")]
public class ClippedSgdTests
{
    private delegate void Update(Span<float> w, ReadOnlySpan<float> g, float lr, float clip);

    /// <summary>Lengths 0..67 (across vector-width multiples and tails), weights and gradients with outliers beyond any clip.</summary>
    private static Arbitrary<(float[] W, float[] G, float Lr, float Clip)> Cases() =>
        (from n in Gen.Choose(0, 67)
         from w in Gen.Choose(-1000, 1000).Select(v => v / 100f).ArrayOf(n)
         from g in Gen.Choose(-100000, 100000).Select(v => v / 1000f).ArrayOf(n)
         from lr in Gen.Elements(0.1f, 1e-3f, 0.7f, -0.2f)
         from clip in Gen.Elements(5f, 0.25f, 1e-4f, float.PositiveInfinity)
         select (w, g, lr, clip)).ToArbitrary();

    private static bool MatchesDefinition(Update update, (float[] W, float[] G, float Lr, float Clip) c)
    {
        float[] w = (float[])c.W.Clone();
        update(w, c.G, c.Lr, c.Clip);
        for (int i = 0; i < w.Length; i++)
        {
            // Exact value in double; the kernel rounds once (FMA) or twice (product, then sum).
            double step = (double)c.Lr * Math.Clamp((double)c.G[i], -c.Clip, c.Clip);
            double exact = c.W[i] - step;
            if (!(Math.Abs(w[i] - exact) <= 0.5 * Ulp(exact) + 0.5 * Ulp(step))) return false;
        }
        return true;
    }

    private static double Ulp(double value)
    {
        float f = Math.Abs((float)value);
        return Math.Max(float.Epsilon, MathF.BitIncrement(f) - f);
    }

    [Property(MaxTest = 300)]
    public Property Public_update_matches_its_definition() => Prop.ForAll(Cases(), c => MatchesDefinition(ClippedSgd.Update, c));

    [Property(MaxTest = 300)]
    public Property Scalar_twin_matches_its_definition() => Prop.ForAll(Cases(), c => MatchesDefinition(ClippedSgd.Scalar.Update, c));

    [Property(MaxTest = 300)]
    public Property Vector_path_matches_its_definition() =>
        Prop.ForAll(Cases(), c => c.W.Length < Vector<float>.Count || MatchesDefinition(ClippedSgd.Simd.Update, c));

    [Fact]
    public void Clipping_bounds_the_step_and_infinity_turns_it_off()
    {
        float[] w = new float[19];
        float[] g = Enumerable.Range(0, 19).Select(i => (i - 9) * 10f).ToArray();
        ClippedSgd.Update(w, g, 1f, 5f);
        Assert.All(w, v => Assert.InRange(v, -5f, 5f));
        Assert.Equal(-5f, w[18]);
        Assert.Equal(5f, w[0]);
        float[] free = new float[19];
        ClippedSgd.Update(free, g, 1f, float.PositiveInfinity);
        Assert.Equal(g.Select(v => -v), free);
    }

    [Fact]
    public void Bad_arguments_are_rejected_and_nothing_changes()
    {
        float[] w = [1, 2, 3];
        Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => ClippedSgd.Update(w, new float[2], 0.1f, 5f)).ParamName);
        Assert.Equal("clip", Assert.Throws<ArgumentOutOfRangeException>(() => ClippedSgd.Update(w, new float[3], 0.1f, 0f)).ParamName);
        Assert.Equal("clip", Assert.Throws<ArgumentOutOfRangeException>(() => ClippedSgd.Update(w, new float[3], 0.1f, float.NaN)).ParamName);
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => ClippedSgd.Update(w, new float[3], float.PositiveInfinity, 5f)).ParamName);
        Assert.Equal([1f, 2f, 3f], w);
    }
}
