using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Kernels;

/// <summary>
/// The element-wise kernels at every width this machine has (<see cref="Widths.Fitting"/>, the scalar width always)
/// and through the public entry points, against definitions evaluated here in double precision.
/// </summary>
[Trait("Category", "Kernels")]
public class ElementwiseTests
{
    private const double UnitRoundoff32 = 1.0 / (1 << 24);

    /// <summary>
    /// Lengths 0..67 (every tail of every width), h in [−1, 1] (tanh outputs, ±0 and ±1 included), dh in [−100, 100]
    /// with an occasional ±0, ±∞ or NaN.
    /// </summary>
    private static Arbitrary<(float[] A, float[] B)> Pairs() =>
        (from n in Gen.Choose(0, 67)
         from a in Gen.Frequency((8, Gen.Choose(-1000, 1000).Select(v => v / 1000f)), (1, Gen.Elements(0f, -0f, 1f, -1f))).ArrayOf(n)
         from b in Gen.Frequency((8, Gen.Choose(-100000, 100000).Select(v => v / 1000f)),
             (1, Gen.Elements(0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN))).ArrayOf(n)
         select (a, b)).ToArbitrary();

    /// <summary>
    /// Whether <c>a·b + c</c> fuses here (<see cref="IFloatVector{TSelf}.MultiplyAdd"/> is fused on every width where
    /// the hardware has FMA): (1 + 2⁻¹²)² − (1 + 2⁻¹¹) is 2⁻²⁴ exactly, and 0 when the product is rounded first.
    /// </summary>
    private static readonly bool Fused = float.MultiplyAddEstimate(1 + 1f / 4096, 1 + 1f / 4096, -(1 + 1f / 2048)) != 0f;

    private static readonly float[] Specials =
        [0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon, 1e-40f, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN];

    /// <summary>Arrays of lengths 0..67 mixing moderate values, arbitrary bit patterns and the special values.</summary>
    private static Arbitrary<(float[] A, float[] B)> AnyPairs()
    {
        var moderate = Gen.Choose(-100000, 100000).Select(v => v / 1000f);
        var bits = Gen.Choose(0, 0xFFFF).SelectMany(hi => Gen.Choose(0, 0xFFFF).Select(lo => BitConverter.Int32BitsToSingle((hi << 16) | lo)));
        var value = Gen.Frequency((4, moderate), (2, bits), (1, Gen.Elements(Specials)));
        return (from n in Gen.Choose(0, 67) from a in value.ArrayOf(n) from b in value.ArrayOf(n) select (a, b)).ToArbitrary();
    }

    private static bool SameBits(float a, float b) =>
        BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b));

    // ---------------------------------------------------------------- TanhBackward

    private enum Alias { None, DaIsDh, DaIsH }

    /// <summary>Runs TanhBackward at <paramref name="width"/> (null: the public entry) with the given aliasing.</summary>
    private static float[] Backward(Width? width, float[] h, float[] dh, Alias alias)
    {
        float[] hIn = (float[])h.Clone(), dhIn = (float[])dh.Clone();
        float[] da = alias switch { Alias.DaIsDh => dhIn, Alias.DaIsH => hIn, _ => new float[h.Length] };
        if (width is { } w) Elementwise.TanhBackwardAt(w, hIn, dhIn, da);
        else Elementwise.TanhBackward(hIn, dhIn, da);
        return da;
    }

    /// <summary>
    /// (1 − h²)·dh in double (exact but for one rounding of 2⁻⁵³ relative). The kernel computes fma(−h, h, 1)·dh: with
    /// FMA, 1 − h² rounds once and the product once, so |error| ≤ (2u + u²)·|exact|, u = 2⁻²⁴. Without FMA, h² rounds
    /// first, adding u·h²·|dh| (times (1 + u)²), which is not relative to the result where |h| → 1. A zero keeps its
    /// sign, ±∞ and NaN are as in the definition.
    /// </summary>
    private static bool BackwardMatches(float[] h, float[] dh, float[] da)
    {
        for (int i = 0; i < da.Length; i++)
        {
            double exact = (1 - (double)h[i] * h[i]) * dh[i];
            if (double.IsNaN(exact)) { if (!float.IsNaN(da[i])) return false; continue; }
            if (double.IsInfinity(exact) || exact == 0) { if (!SameBits(da[i], (float)exact)) return false; continue; }
            double bound = (2 * UnitRoundoff32 + UnitRoundoff32 * UnitRoundoff32 + Math.Pow(2, -52)) * Math.Abs(exact);
            if (!Fused) bound += UnitRoundoff32 * (1 + UnitRoundoff32) * (1 + UnitRoundoff32) * (double)h[i] * h[i] * Math.Abs(dh[i]);
            if (!(Math.Abs(da[i] - exact) <= bound)) return false;
        }
        return true;
    }

    [Property(MaxTest = 200)]
    public Property TanhBackward_matches_its_definition_at_every_width_in_and_out_of_place() => Prop.ForAll(Pairs(), c =>
    {
        foreach (var alias in new[] { Alias.None, Alias.DaIsDh, Alias.DaIsH })
        {
            if (!BackwardMatches(c.A, c.B, Backward(null, c.A, c.B, alias))) return false;
            foreach (var width in Widths.Fitting(c.A.Length))
                if (!BackwardMatches(c.A, c.B, Backward(width, c.A, c.B, alias))) return false;
        }
        return true;
    });

    [Property(MaxTest = 200)]
    public Property TanhBackward_gives_the_same_bits_at_every_width() => Prop.ForAll(AnyPairs(), c =>
    {
        // Lane-wise, one product and one fused multiply-add at every width: the same operations on the same lanes.
        float[] scalar = Backward(Width.Scalar, c.A, c.B, Alias.None);
        foreach (var width in Widths.Fitting(c.A.Length))
            foreach (var alias in new[] { Alias.None, Alias.DaIsDh, Alias.DaIsH })
            {
                float[] da = Backward(width, c.A, c.B, alias);
                for (int i = 0; i < da.Length; i++)
                    if (!SameBits(da[i], scalar[i])) return false;
            }
        return true;
    });

    [Fact]
    public void TanhBackward_keeps_signed_zeros_and_infinities()
    {
        // (1 − 0²)·(−0) = −0, (1 − 1²)·5 = +0, (1 − 0.25)·∞ = ∞, (1 − 1)·∞ = NaN, at every width and in every lane.
        foreach (var width in Widths.Fitting(19))
        {
            float[] h = new float[19], dh = new float[19];
            for (int i = 0; i < 19; i++)
                (h[i], dh[i]) = (i % 4) switch { 0 => (0f, -0f), 1 => (1f, 5f), 2 => (-0.5f, float.NegativeInfinity), _ => (-1f, float.PositiveInfinity) };
            float[] da = Backward(width, h, dh, Alias.None);
            for (int i = 0; i < 19; i++)
            {
                float expected = (i % 4) switch { 0 => -0f, 1 => 0f, 2 => float.NegativeInfinity, _ => float.NaN };
                Assert.True(SameBits(expected, da[i]), $"{width} lane {i}: {da[i]:R}, expected {expected:R}");
            }
        }
    }

    // ---------------------------------------------------------------- Accumulate

    /// <summary>y[i] + x[i] in double is exact (two floats), so its rounding to float is the one IEEE float addition.</summary>
    private static bool AddMatches(float[] x, float[] y0, float[] y)
    {
        for (int i = 0; i < y.Length; i++)
            if (!SameBits(y[i], (float)((double)y0[i] + x[i]))) return false;
        return true;
    }

    [Property(MaxTest = 200)]
    public Property Accumulate_matches_its_definition_at_every_width() => Prop.ForAll(AnyPairs(), c =>
    {
        float[] y = (float[])c.B.Clone();
        Elementwise.Accumulate(c.A, y);
        if (!AddMatches(c.A, c.B, y)) return false;
        foreach (var width in Widths.Fitting(c.A.Length))
        {
            y = (float[])c.B.Clone();
            Elementwise.AccumulateAt(width, c.A, y);
            if (!AddMatches(c.A, c.B, y)) return false;
        }
        return true;
    });

    // ---------------------------------------------------------------- AllFinite

    /// <summary>Lengths 0..67, finite values of every magnitude, then zero, one or two planted NaN / ±∞ anywhere.</summary>
    private static Arbitrary<float[]> MaybeFinite()
    {
        var finite = Gen.Choose(0, 0xFFFF).SelectMany(hi => Gen.Choose(0, 0xFFFF).Select(lo => BitConverter.Int32BitsToSingle((hi << 16) | lo)))
            .Where(float.IsFinite);
        var bad = Gen.Elements(float.NaN, -float.NaN, float.PositiveInfinity, float.NegativeInfinity);
        return (from n in Gen.Choose(0, 67)
                from x in Gen.Frequency((3, finite), (1, Gen.Elements(0f, -0f, float.MaxValue, float.MinValue, float.Epsilon))).ArrayOf(n)
                from planted in Gen.Choose(0, 2)
                from positions in Gen.Choose(0, Math.Max(0, n - 1)).ArrayOf(planted)
                from values in bad.ArrayOf(planted)
                select Plant(x, positions, values)).ToArbitrary();

        static float[] Plant(float[] x, int[] positions, float[] values)
        {
            var y = (float[])x.Clone();
            for (int k = 0; k < positions.Length && y.Length > 0; k++) y[positions[k]] = values[k];
            return y;
        }
    }

    [Property(MaxTest = 500)]
    public Property AllFinite_matches_its_definition_at_every_width() => Prop.ForAll(MaybeFinite(), x =>
    {
        bool expected = x.All(float.IsFinite);
        if (Elementwise.AllFinite(x) != expected) return false;
        foreach (var width in Widths.Fitting(x.Length))
            if (Elementwise.AllFiniteAt(width, x) != expected) return false;
        return true;
    });

    [Fact]
    public void AllFinite_finds_one_bad_value_at_every_position_and_length()
    {
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            for (int n = 1; n <= 67; n++)
            {
                var x = new float[n];
                for (int i = 0; i < n; i++) x[i] = (i % 2 == 0 ? 1 : -1) * float.MaxValue / (i + 1);
                foreach (var width in Widths.Fitting(n))
                {
                    Assert.True(Elementwise.AllFiniteAt(width, x), $"{width} n = {n}: all finite");
                    for (int at = 0; at < n; at++)
                    {
                        float keep = x[at];
                        x[at] = bad;
                        Assert.False(Elementwise.AllFiniteAt(width, x), $"{width} n = {n}: {bad} at {at}");
                        x[at] = keep;
                    }
                }
            }
    }

    // ---------------------------------------------------------------- edges, validation, allocation

    [Fact]
    public void Empty_spans_are_fine()
    {
        Elementwise.TanhBackward([], [], []);
        Elementwise.Accumulate([], []);
        Assert.True(Elementwise.AllFinite([]));
    }

    [Fact]
    public void Mismatched_lengths_are_rejected()
    {
        Assert.Equal("dh", Assert.Throws<ArgumentException>(() => Elementwise.TanhBackward(new float[3], new float[2], new float[3])).ParamName);
        Assert.Equal("da", Assert.Throws<ArgumentException>(() => Elementwise.TanhBackward(new float[3], new float[3], new float[4])).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Elementwise.Accumulate(new float[3], new float[4])).ParamName);
    }

    [Fact]
    public void Nothing_allocates_at_any_width()
    {
        float[] h = new float[67], dh = new float[67], da = new float[67];
        for (int i = 0; i < h.Length; i++) { h[i] = i / 70f; dh[i] = i - 30f; }
        Assert.Equal(0, Allocations.Of(() =>
        {
            Elementwise.TanhBackward(h, dh, da);
            Elementwise.Accumulate(dh, da);
            _ = Elementwise.AllFinite(da);
        }));
        foreach (var width in Widths.Fitting(h.Length))
            Assert.Equal(0, Allocations.Of(() =>
            {
                Elementwise.TanhBackwardAt(width, h, dh, da);
                Elementwise.AccumulateAt(width, dh, da);
                _ = Elementwise.AllFiniteAt(width, da);
            }));
    }
}
