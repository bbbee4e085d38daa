using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Kernels;

/// <summary>
/// The clipped SGD update at every width this machine has (<see cref="Widths.Fitting"/>, the scalar width always) and
/// through the public entry, against the definition evaluated here in double precision.
/// </summary>
[Trait("Category", "Kernels")]
public class ClippedSgdTests
{
    /// <summary>Lengths 0..67 (across vector-width multiples and tails), weights and gradients with outliers beyond any clip.</summary>
    private static Arbitrary<(float[] W, float[] G, float Lr, float Clip)> Cases() =>
        (from n in Gen.Choose(0, 67)
         from w in Gen.Choose(-1000, 1000).Select(v => v / 100f).ArrayOf(n)
         from g in Gen.Choose(-100000, 100000).Select(v => v / 1000f).ArrayOf(n)
         from lr in Gen.Elements(0.1f, 1e-3f, 0.7f, -0.2f)
         from clip in Gen.Elements(5f, 0.25f, 1e-4f, float.PositiveInfinity)
         select (w, g, lr, clip)).ToArbitrary();

    /// <summary>As <see cref="Cases"/>, with an occasional NaN, ±∞, ±0 or huge value in either array.</summary>
    private static Arbitrary<(float[] W, float[] G, float Lr, float Clip)> SpecialCases()
    {
        var special = Gen.Elements(float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, float.MaxValue, float.MinValue, 1e-40f);
        return (from n in Gen.Choose(0, 67)
                from w in Gen.Frequency((6, Gen.Choose(-1000, 1000).Select(v => v / 100f)), (1, special)).ArrayOf(n)
                from g in Gen.Frequency((6, Gen.Choose(-100000, 100000).Select(v => v / 1000f)), (1, special)).ArrayOf(n)
                from lr in Gen.Elements(0.1f, 1e-3f, 0.7f, -0.2f, 0f)
                from clip in Gen.Elements(5f, 0.25f, 1e-4f, float.PositiveInfinity)
                select (w, g, lr, clip)).ToArbitrary();
    }

    /// <summary>
    /// Whether <c>a·b + c</c> fuses here (MultiplyAdd is fused on every width where the hardware has FMA):
    /// (1 + 2⁻¹²)² − (1 + 2⁻¹¹) is 2⁻²⁴ exactly, and 0 when the product is rounded first.
    /// </summary>
    private static readonly bool Fused = float.MultiplyAddEstimate(1 + 1f / 4096, 1 + 1f / 4096, -(1 + 1f / 2048)) != 0f;

    private static bool SameBits(float a, float b) =>
        BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b));

    /// <summary>Runs the update at <paramref name="width"/> (null: the public entry) on a copy of the weights.</summary>
    private static float[] Run(Width? width, (float[] W, float[] G, float Lr, float Clip) c)
    {
        float[] w = (float[])c.W.Clone();
        if (width is { } at) ClippedSgd.UpdateAt(at, w, c.G, c.Lr, c.Clip);
        else ClippedSgd.Update(w, c.G, c.Lr, c.Clip);
        return w;
    }

    /// <summary>
    /// The definition w − lr·clamp(g, −c, c) in double: lr·clamp(g) is exact in double (24 × 24 bits), the difference
    /// rounds once (≤ 2⁻⁵³ relative). The kernel computes fma(−lr, clamp(g), w): with FMA one rounding of the exact
    /// value, ≤ ½ ulp of the result; without FMA the product rounds first, another ½ ulp of lr·clamp(g).
    /// </summary>
    private static bool MatchesDefinition(float[] got, (float[] W, float[] G, float Lr, float Clip) c)
    {
        for (int i = 0; i < got.Length; i++)
        {
            double step = (double)c.Lr * Math.Clamp((double)c.G[i], -c.Clip, c.Clip);
            double exact = c.W[i] - step;
            double bound = 0.5 * Ulp(exact) + Math.Pow(2, -53) * Math.Abs(exact) + (Fused ? 0 : 0.5 * Ulp(step));
            if (!(Math.Abs(got[i] - exact) <= bound)) return false;
        }
        return true;
    }

    /// <summary>The spacing of floats at |value| (float.Epsilon at zero).</summary>
    private static double Ulp(double value)
    {
        float f = Math.Abs((float)value);
        return Math.Max(float.Epsilon, MathF.BitIncrement(f) - f);
    }

    [Property(MaxTest = 300)]
    public Property Update_matches_its_definition_at_every_width() => Prop.ForAll(Cases(), c =>
    {
        if (!MatchesDefinition(Run(null, c), c)) return false;
        foreach (var width in Widths.Fitting(c.W.Length))
            if (!MatchesDefinition(Run(width, c), c)) return false;
        return true;
    });

    [Property(MaxTest = 300)]
    public Property Update_gives_the_same_bits_at_every_width() => Prop.ForAll(SpecialCases(), c =>
    {
        // Lane-wise: IEEE max, min and one fused multiply-add on every width, NaN and ±∞ included.
        float[] scalar = Run(Width.Scalar, c);
        foreach (var width in Widths.Fitting(c.W.Length))
        {
            float[] w = Run(width, c);
            for (int i = 0; i < w.Length; i++)
                if (!SameBits(w[i], scalar[i])) return false;
        }
        return true;
    });

    [Fact]
    public void Non_finite_gradients_clip_or_propagate_at_every_width()
    {
        // clamp is IEEE min(max(g, −c), c): NaN stays NaN, ±∞ clips to ±c, and without clipping ∞ reaches the weight.
        float[] g = new float[19];
        for (int i = 0; i < g.Length; i++) g[i] = (i % 3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity };
        foreach (var width in Widths.Fitting(g.Length))
        {
            float[] clipped = new float[19], free = new float[19];
            ClippedSgd.UpdateAt(width, clipped, g, 0.5f, 2f);
            ClippedSgd.UpdateAt(width, free, g, 0.5f, float.PositiveInfinity);
            for (int i = 0; i < g.Length; i++)
            {
                float expectedClipped = (i % 3) switch { 0 => float.NaN, 1 => -1f, _ => 1f };
                float expectedFree = (i % 3) switch { 0 => float.NaN, 1 => float.NegativeInfinity, _ => float.PositiveInfinity };
                Assert.True(SameBits(expectedClipped, clipped[i]), $"{width} lane {i}: clipped {clipped[i]:R}");
                Assert.True(SameBits(expectedFree, free[i]), $"{width} lane {i}: unclipped {free[i]:R}");
            }
        }
    }

    [Fact]
    public void Nothing_allocates_at_any_width()
    {
        float[] w = new float[67], g = new float[67];
        for (int i = 0; i < g.Length; i++) g[i] = i - 30f;
        Assert.Equal(0, Allocations.Of(() => ClippedSgd.Update(w, g, 1e-3f, 5f)));
        foreach (var width in Widths.Fitting(w.Length))
            Assert.Equal(0, Allocations.Of(() => ClippedSgd.UpdateAt(width, w, g, 1e-3f, 5f)));
    }

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
