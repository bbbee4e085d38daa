using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;

namespace SimdRnn.Tests.Kernels;

[Trait("Category", "Kernels")]
public class ElementwiseTests
{
    private static Arbitrary<(float[] A, float[] B)> Pairs() =>
        (from n in Gen.Choose(0, 67)
         from a in Gen.Choose(-1000, 1000).Select(v => v / 1000f).ArrayOf(n)
         from b in Gen.Choose(-100000, 100000).Select(v => v / 1000f).ArrayOf(n)
         select (a, b)).ToArbitrary();

    private delegate void Backward(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da);

    private delegate void Add(ReadOnlySpan<float> x, Span<float> y);

    // (1 − h²)·dh in double; float evaluation with (or without) FMA is within a few ulps of dh's scale:
    // |error| ≤ 3·2^-24·|dh| (three roundings, each relative to a quantity bounded by |dh| since |h| ≤ 1).
    private static bool BackwardMatches(Backward kernel, (float[] H, float[] Dh) c, bool inPlace)
    {
        float[] da = inPlace ? (float[])c.Dh.Clone() : new float[c.H.Length];
        kernel(c.H, inPlace ? da : c.Dh, da);
        for (int i = 0; i < da.Length; i++)
        {
            double exact = (1 - (double)c.H[i] * c.H[i]) * c.Dh[i];
            if (!(Math.Abs(da[i] - exact) <= 3 * Math.Pow(2, -24) * Math.Abs(c.Dh[i]))) return false;
        }
        return true;
    }

    private static bool AddMatches(Add kernel, (float[] X, float[] Y) c)
    {
        float[] y = (float[])c.Y.Clone();
        kernel(c.X, y);
        for (int i = 0; i < y.Length; i++)
            if (y[i] != c.Y[i] + c.X[i]) return false; // one IEEE addition: exact same rounding
        return true;
    }

    [Property(MaxTest = 200)]
    public Property TanhBackward_matches_its_definition_on_every_path() => Prop.ForAll(Pairs(), c =>
        BackwardMatches(Elementwise.TanhBackward, c, false) && BackwardMatches(Elementwise.TanhBackward, c, true)
        && BackwardMatches(Elementwise.Scalar.TanhBackward, c, false)
        && (c.A.Length < Vector<float>.Count || (BackwardMatches(Elementwise.Simd.TanhBackward, c, false) && BackwardMatches(Elementwise.Simd.TanhBackward, c, true))));

    [Property(MaxTest = 200)]
    public Property Accumulate_matches_its_definition_on_every_path() => Prop.ForAll(Pairs(), c =>
        AddMatches(Elementwise.Accumulate, c) && AddMatches(Elementwise.Scalar.Accumulate, c)
        && (c.A.Length < Vector<float>.Count || AddMatches(Elementwise.Simd.Accumulate, c)));

    [Fact]
    public void Mismatched_lengths_are_rejected()
    {
        Assert.Equal("dh", Assert.Throws<ArgumentException>(() => Elementwise.TanhBackward(new float[3], new float[2], new float[3])).ParamName);
        Assert.Equal("da", Assert.Throws<ArgumentException>(() => Elementwise.TanhBackward(new float[3], new float[3], new float[4])).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Elementwise.Accumulate(new float[3], new float[4])).ParamName);
    }
}
