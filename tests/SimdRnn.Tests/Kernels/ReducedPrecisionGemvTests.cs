using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Kernels;

/// <summary>
/// The reduced-precision weight recipes (<see cref="WeightQuantization"/>: bf16, int8 with one scale per row) and their
/// GEMV kernels (bf16 through <c>Gemv.MultiplyAccumulatePairedBFloat16</c> on the row-major bits packed as networks
/// pack them, <c>Gemv.MultiplyAccumulateInt8</c>) at every width, against
/// references written here in double precision that apply the same recipe independently: bf16 rounding by scaling to
/// the format's spacing and rounding the double (no bit tricks), int8 by the recipe's formulas.
/// </summary>
/// <remarks>
/// <para>Tolerance of the kernels. The reference dequantizes each weight per the recipe, exactly, in double
/// (a bf16 value is a float; q·s_r is an integer of 7 bits times a float of 24 bits), and sums y0[i] + Σ_j w_eff·x[j]
/// in double. The kernel sums the same terms in float32 in some order: for bf16 every product term passes through at
/// most one product rounding and cols additions (the row sum and the add into y), so the standard forward bound
/// (Higham, Accuracy and Stability, §3.1, §4.2) gives |computed − exact| ≤ γ_{cols+1}·(|y0| + Σ_j |w_eff·x_j|) with
/// γ_m = m·u/(1 − m·u), u = 2^-24. For int8 the kernel sums q·x and applies s_r after the row's sum: one more rounding
/// (the scale's product; it is fused into the add into y where the hardware has FMA, but the bound does not rely on
/// that), so γ_{cols+2}. The reference's own error (γ_{cols+2} at u = 2^-53) is added. The bound needs no underflow: the
/// data are k·2^-18 (|k| ≤ 2^20) and the int8 scales are ≥ 2^-18/127, so every non-zero product is ≥ 2^-43. A missing
/// or doubled term is of magnitude ~1, far above the bound (≈ 4e-6·Σ|t| at 67 columns).</para>
/// </remarks>
[Trait("Category", "Kernels")]
public sealed class ReducedPrecisionGemvTests
{
    private const double UnitRoundoff32 = 1.0 / (1 << 24);
    private const double UnitRoundoff64 = 1.0 / (1L << 53);

    internal static double Gamma(int m, double u) => m * u / (1 - m * u);

    /// <summary>The allowed error of a float32 evaluation whose terms go through at most <paramref name="m"/> roundings.</summary>
    private static double Tolerance(int m, double absSum) => (Gamma(m, UnitRoundoff32) + Gamma(m, UnitRoundoff64)) * absSum;

    // ---------------------------------------------------------------- data

    /// <summary>A value k·2^-18, |k| ≤ 2^20 (|v| ≤ 4, up to 21 significant bits, so bf16 rounds and products round).</summary>
    internal static float Value(Random random) => random.Next(-(1 << 20), (1 << 20) + 1) * (1f / (1 << 18));

    internal static float[] Values(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = Value(random);
        return values;
    }

    /// <summary>Shapes rows, cols in 0..67 (both), with a seed for the values.</summary>
    private static Arbitrary<(int Rows, int Cols, int Seed)> Shapes() =>
        Gen.Choose(0, 67).SelectMany(rows => Gen.Choose(0, 67).SelectMany(cols => Gen.Choose(0, int.MaxValue).Select(seed => (rows, cols, seed))))
            .ToArbitrary();

    // ---------------------------------------------------------------- the recipes, independently (double precision)

    /// <summary>
    /// The nearest bfloat16 of <paramref name="v"/>, ties to even, as a double: the spacing of bfloat16 at v's binade is
    /// 2^(e − 7) (e = ⌊log2|v|⌋, at least −126: bf16 has 7 fraction bits and float32's exponent range, subnormals
    /// included), so |v| / spacing rounded to an even-preferring integer, times the spacing, is the rounding; results
    /// of 2^128 or more are ∞. NaN and ±∞ are returned as they are.
    /// </summary>
    internal static double BFloat16Reference(float v)
    {
        if (!float.IsFinite(v) || v == 0) return v;
        double magnitude = Math.Abs((double)v);
        int exponent = Math.Max(Math.ILogB(magnitude), -126);
        double spacing = Math.ScaleB(1.0, exponent - 7);
        double rounded = Math.Round(magnitude / spacing, MidpointRounding.ToEven) * spacing;
        if (rounded >= Math.ScaleB(1.0, 128)) rounded = double.PositiveInfinity;
        return Math.CopySign(rounded, v);
    }

    /// <summary>The int8 recipe: s = max|w_row| / 127 in float32; q = round-half-to-even(w / s) clamped to ±127 (0 when s = 0).</summary>
    private static (sbyte[] Q, float[] Scales) Int8Reference(float[] w, int rows, int cols)
    {
        var q = new sbyte[rows * cols];
        var scales = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            float max = 0;
            for (int j = 0; j < cols; j++) max = Math.Max(max, Math.Abs(w[r * cols + j]));
            float s = max / 127f;
            scales[r] = s;
            for (int j = 0; j < cols; j++)
            {
                double quotient = s == 0 ? 0 : w[r * cols + j] / (double)s;
                q[r * cols + j] = (sbyte)Math.Clamp(Math.Round(quotient, MidpointRounding.ToEven), -127, 127);
            }
        }
        return (q, scales);
    }

    // ---------------------------------------------------------------- kernel checks

    /// <summary>Checks y0 + W_eff·x (exact, in double) against <paramref name="got"/>, with <paramref name="roundings"/> roundings per term allowed.</summary>
    private static void CheckMultiply(double[] wEffective, int rows, int cols, float[] x, float[] y0, float[] got, int roundings, string what)
    {
        for (int i = 0; i < rows; i++)
        {
            double exact = y0[i], abs = Math.Abs((double)y0[i]);
            for (int j = 0; j < cols; j++)
            {
                double term = wEffective[i * cols + j] * x[j];
                exact += term;
                abs += Math.Abs(term);
            }
            double tolerance = Tolerance(roundings, abs), error = Math.Abs(got[i] - exact);
            Assert.True(error <= tolerance,
                $"{what} ({rows}×{cols}) row {i}: got {got[i]:R}, exact {exact:R}, error {error:E3} > tolerance {tolerance:E3}");
        }
    }

    /// <summary>Row-major bf16 bits packed in the paired column layout with <paramref name="panelRows"/> (what a network stores).</summary>
    private static ushort[] Paired(ushort[] bits, int rows, int cols, int panelRows)
    {
        var packed = new ushort[Gemv.PairedLength(rows, cols)];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                packed[Gemv.PairedIndex(rows, cols, panelRows, i, j)] = bits[i * cols + j];
        return packed;
    }

    /// <summary>y += bf16(W)·x through the networks' bf16 kernel (its checked entry), W given as row-major bits.</summary>
    private static void BFloat16Gemv(ushort[] bits, int rows, int cols, float[] x, float[] y)
    {
        int panel = Gemv.PairedPanelRows(VectorWidth.Maximum);
        Gemv.MultiplyAccumulatePairedBFloat16(Paired(bits, rows, cols, panel), rows, cols, panel, 0, rows, x, y);
    }

    /// <summary>
    /// <see cref="BFloat16Gemv"/> at <paramref name="width"/>, packed as a process at that width packs; the bf16 kernel's
    /// lanes are rows, so a width wider than the rows runs at the widest that fits them.
    /// </summary>
    private static void BFloat16GemvAt(Width width, ushort[] bits, int rows, int cols, float[] x, float[] y)
    {
        if (VectorWidth.Lanes(width) > Math.Max(1, rows)) width = VectorWidth.For(rows);
        int panel = Gemv.PairedPanelRows(width);
        Gemv.MultiplyAccumulatePairedBFloat16At(width, Paired(bits, rows, cols, panel), rows, cols, panel, 0, rows, x, y);
    }

    private static void RunBFloat16(int rows, int cols, int seed)
    {
        var random = new Random(seed);
        float[] w = Values(random, rows * cols), x = Values(random, cols), y0 = Values(random, rows);
        var bits = new ushort[w.Length];
        WeightQuantization.ToBFloat16(w, bits);
        double[] wEffective = w.Select(BFloat16Reference).ToArray();

        var y = (float[])y0.Clone();
        BFloat16Gemv(bits, rows, cols, x, y);
        CheckMultiply(wEffective, rows, cols, x, y0, y, cols + 1, "bf16");

        foreach (var width in Widths.Fitting(cols))
        {
            y = (float[])y0.Clone();
            BFloat16GemvAt(width, bits, rows, cols, x, y);
            CheckMultiply(wEffective, rows, cols, x, y0, y, cols + 1, $"bf16 at {width}");
        }
    }

    private static void RunInt8(int rows, int cols, int seed)
    {
        var random = new Random(seed);
        float[] w = Values(random, rows * cols), x = Values(random, cols), y0 = Values(random, rows);
        var q = new sbyte[w.Length];
        var scales = new float[rows];
        WeightQuantization.QuantizeRows(w, rows, cols, q, scales);
        (sbyte[] qExpected, float[] scalesExpected) = Int8Reference(w, rows, cols);
        Assert.Equal(qExpected, q);
        Assert.Equal(scalesExpected, scales);
        var wEffective = new double[w.Length];
        for (int k = 0; k < w.Length; k++) wEffective[k] = qExpected[k] * (double)scalesExpected[k / cols];

        var y = (float[])y0.Clone();
        Gemv.MultiplyAccumulateInt8(q, scales, rows, cols, x, y);
        CheckMultiply(wEffective, rows, cols, x, y0, y, cols + 2, "int8");

        foreach (var width in Widths.Fitting(cols))
        {
            y = (float[])y0.Clone();
            Gemv.MultiplyAccumulateInt8At(width, q, scales, rows, cols, x, y);
            CheckMultiply(wEffective, rows, cols, x, y0, y, cols + 2, $"int8 at {width}");
        }
    }

    [Property(MaxTest = 300)]
    public Property BFloat16MatchesRecipe() =>
        Prop.ForAll(Shapes(), s => RunBFloat16(s.Rows, s.Cols, s.Seed));

    [Property(MaxTest = 300)]
    public Property Int8MatchesRecipe() =>
        Prop.ForAll(Shapes(), s => RunInt8(s.Rows, s.Cols, s.Seed));

    /// <summary>Large and odd shapes, and the step shapes of the benchmarks.</summary>
    [Theory]
    [InlineData(25, 3)]
    [InlineData(75, 25)]
    [InlineData(1027, 515)]
    [InlineData(384, 192)]
    [InlineData(3 * 128, 128)]
    public void FixedShapesMatchRecipe(int rows, int cols)
    {
        RunBFloat16(rows, cols, seed: 11);
        RunInt8(rows, cols, seed: 12);
    }

    /// <summary>Every column count up to 3 vectors + 1 and every row count up to 13 (the 8-, 4- and 1-row blocks and their mixes).</summary>
    [Fact]
    public void AllSmallShapesMatchRecipe()
    {
        int maxCols = 3 * Math.Max(Vector<float>.Count, VectorWidth.Lanes(VectorWidth.Maximum)) + 1;
        for (int rows = 0; rows <= 13; rows++)
        {
            for (int cols = 0; cols <= maxCols; cols++)
            {
                RunBFloat16(rows, cols, seed: rows * 100 + cols);
                RunInt8(rows, cols, seed: rows * 100 + cols + 1);
            }
        }
    }

    // ---------------------------------------------------------------- bf16 recipe edge cases

    private static void AssertBFloat16(uint inputBits, ushort expected)
    {
        float input = BitConverter.UInt32BitsToSingle(inputBits);
        ushort got = WeightQuantization.ToBFloat16(input);
        Assert.True(expected == got, $"bf16(0x{inputBits:X8} = {input:R}): expected 0x{expected:X4}, got 0x{got:X4}");
    }

    /// <summary>Halfway cases go to the even neighbour, both ways and both signs; one bit off halfway decides.</summary>
    [Theory]
    [InlineData(0x3F808000u, (ushort)0x3F80)] // 1 + 2^-8: halfway between 1 (even) and 1 + 2^-7 → 1
    [InlineData(0x3F818000u, (ushort)0x3F82)] // halfway between 0x3F81 (odd) and 0x3F82 → up
    [InlineData(0xBF808000u, (ushort)0xBF80)] // negative, even below → toward zero
    [InlineData(0xBF818000u, (ushort)0xBF82)] // negative, odd → away from zero
    [InlineData(0x3F807FFFu, (ushort)0x3F80)] // just under halfway → down
    [InlineData(0x3F808001u, (ushort)0x3F81)] // just over halfway → up
    [InlineData(0x3FFF8000u, (ushort)0x4000)] // odd, carries into the exponent: 1.9961… → 2
    [InlineData(0x40490FDBu, (ushort)0x4049)] // π → 3.140625
    public void BFloat16RoundsToNearestTiesToEven(uint input, ushort expected) => AssertBFloat16(input, expected);

    /// <summary>Subnormals follow the same rule; ±0 keep their sign; overflow becomes ±∞; ±∞ stay.</summary>
    [Theory]
    [InlineData(0x00000000u, (ushort)0x0000)] // +0
    [InlineData(0x80000000u, (ushort)0x8000)] // −0
    [InlineData(0x00000001u, (ushort)0x0000)] // the smallest float subnormal → +0
    [InlineData(0x80000001u, (ushort)0x8000)] // … negative → −0
    [InlineData(0x00008000u, (ushort)0x0000)] // halfway to the smallest bf16 subnormal, even below → 0
    [InlineData(0x00018000u, (ushort)0x0002)] // halfway, odd below → up
    [InlineData(0x00010000u, (ushort)0x0001)] // the smallest bf16 subnormal, exact
    [InlineData(0x007FFFFFu, (ushort)0x0080)] // the largest float subnormal rounds to the smallest normal
    [InlineData(0x807F7FFFu, (ushort)0x807F)] // a negative subnormal, down
    [InlineData(0x7F7F7FFFu, (ushort)0x7F7F)] // just under the overflow threshold: the largest bf16
    [InlineData(0x7F7F8000u, (ushort)0x7F80)] // halfway above the largest bf16 (odd) → +∞ (IEEE overflow)
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)] // float.MaxValue → +∞
    [InlineData(0xFF7FFFFFu, (ushort)0xFF80)] // float.MinValue → −∞
    [InlineData(0x7F800000u, (ushort)0x7F80)] // +∞
    [InlineData(0xFF800000u, (ushort)0xFF80)] // −∞
    public void BFloat16EdgeCases(uint input, ushort expected) => AssertBFloat16(input, expected);

    /// <summary>Every NaN stays a NaN with its sign, including those whose payload lives only in the low 16 bits (which the bit rule alone would turn into ∞ or carry into −0).</summary>
    [Theory]
    [InlineData(0x7FC00000u)] // the quiet NaN
    [InlineData(0xFFC00000u)] // negative quiet NaN
    [InlineData(0x7F800001u)] // a signalling NaN with only the lowest payload bit: truncation gives +∞
    [InlineData(0x7FFFFFFFu)] // all payload bits: the rounding carry would reach the sign bit
    [InlineData(0xFFFFFFFFu)]
    [InlineData(0x7F80FFFFu)]
    public void BFloat16KeepsNaN(uint input)
    {
        ushort got = WeightQuantization.ToBFloat16(BitConverter.UInt32BitsToSingle(input));
        float widened = WeightQuantization.FromBFloat16(got);
        Assert.True(float.IsNaN(widened), $"bf16(0x{input:X8}) = 0x{got:X4} is not a NaN");
        Assert.Equal(input >> 31, (uint)got >> 15);
    }

    /// <summary>Random bit patterns (every class of float) against the double-precision reference, and the round trip of every bf16 value.</summary>
    [Fact]
    public void BFloat16MatchesReferenceOnRandomBits()
    {
        var random = new Random(2024);
        for (int k = 0; k < 200_000; k++)
        {
            uint bits = (uint)random.NextInt64(0, 1L << 32);
            float v = BitConverter.UInt32BitsToSingle(bits);
            float got = WeightQuantization.FromBFloat16(WeightQuantization.ToBFloat16(v));
            double expected = BFloat16Reference(v);
            if (float.IsNaN(v)) Assert.True(float.IsNaN(got), $"0x{bits:X8}");
            else Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(got), $"bf16(0x{bits:X8} = {v:R}): expected {expected:R}, got {got:R}");
        }
        for (int b = 0; b <= ushort.MaxValue; b++)
        {
            float widened = WeightQuantization.FromBFloat16((ushort)b);
            ushort back = WeightQuantization.ToBFloat16(widened);
            if (float.IsNaN(widened)) Assert.True(float.IsNaN(WeightQuantization.FromBFloat16(back)));
            else Assert.Equal((ushort)b, back);
        }
    }

    // ---------------------------------------------------------------- int8 recipe edge cases

    private static (sbyte[] Q, float[] Scales) Quantize(float[] w, int rows, int cols)
    {
        var q = new sbyte[w.Length];
        var scales = new float[rows];
        WeightQuantization.QuantizeRows(w, rows, cols, q, scales);
        return (q, scales);
    }

    /// <summary>w/s exactly k + 0.5 goes to the even k, both signs; scales 1 and 2 keep every quotient exact.</summary>
    [Fact]
    public void Int8TiesGoToEven()
    {
        float[] w =
        [
            127f, 2.5f, 3.5f, -2.5f, -3.5f, 0.5f, -0.5f, 1.5f, 126.5f, -126.5f,
            254f, 5f, 7f, -5f, -7f, 1f, -1f, 3f, 253f, -253f,
        ];
        (sbyte[] q, float[] scales) = Quantize(w, 2, 10);
        Assert.Equal([1f, 2f], scales);
        sbyte[] expectedRow = [127, 2, 4, -2, -4, 0, 0, 2, 126, -126];
        Assert.Equal([.. expectedRow, .. expectedRow], q);
    }

    /// <summary>A zero row (either sign of zero) keeps s = 0 and q = 0, and adds nothing to y.</summary>
    [Fact]
    public void Int8ZeroRowKeepsZeroScale()
    {
        const int cols = 37;
        var w = new float[3 * cols];
        for (int j = 0; j < cols; j++)
        {
            w[j] = j % 2 == 0 ? 0f : -0f;   // row 0: ±0
            w[cols + j] = j - 18;            // row 1: ordinary
            // row 2: +0
        }
        (sbyte[] q, float[] scales) = Quantize(w, 3, cols);
        Assert.Equal(0f, scales[0]);
        Assert.Equal(0f, scales[2]);
        Assert.Equal(18f / 127f, scales[1]);
        Assert.All(q.AsSpan(0, cols).ToArray(), v => Assert.Equal(0, v));
        Assert.All(q.AsSpan(2 * cols, cols).ToArray(), v => Assert.Equal(0, v));

        float[] x = Enumerable.Range(0, cols).Select(j => 0.25f * j).ToArray();
        foreach (var width in Widths.Fitting(cols))
        {
            float[] y = [1.5f, 0f, -2.5f];
            Gemv.MultiplyAccumulateInt8At(width, q, scales, 3, cols, x, y);
            Assert.Equal(1.5f, y[0]);
            Assert.Equal(-2.5f, y[2]);
        }
    }

    /// <summary>One huge element sets the scale; the others, far below s/2, quantize to 0 (one of them to 1).</summary>
    [Fact]
    public void Int8RowWithOneHugeElement()
    {
        float[] w = [1e30f, 1f, -2f, 5e27f, -1e20f, 3e27f];
        (sbyte[] q, float[] scales) = Quantize(w, 1, w.Length);
        Assert.Equal(1e30f / 127f, scales[0]);
        Assert.Equal(new sbyte[] { 127, 0, 0, 1, 0, 0 }, q); // 5e27·127/1e30 = 0.635 → 1; 3e27 → 0.381 → 0
    }

    /// <summary>
    /// Subnormal weights: a row of subnormals whose scale is exact (max = 127·2^-149: s = 2^-149, q = k); one whose
    /// scale lost bits (max = 178·2^-149: s rounds to 2^-149, and the clamp keeps q at 127); one whose scale
    /// underflows to 0 (max = 63·2^-149: s = 0, q = 0); subnormals beside a normal maximum (q = 0), and a tie there.
    /// </summary>
    [Fact]
    public void Int8Subnormals()
    {
        float tiny = float.Epsilon; // 2^-149
        float[] w =
        [
            127 * tiny, 5 * tiny, -64 * tiny, 0f,
            178 * tiny, -178 * tiny, 3 * tiny, 89 * tiny,
            63 * tiny, -10 * tiny, tiny, 0f,
            127f, 1e-40f, -1e-40f, 63.5f,
        ];
        (sbyte[] q, float[] scales) = Quantize(w, 4, 4);
        Assert.Equal([tiny, tiny, 0f, 1f], scales);
        Assert.Equal(new sbyte[] { 127, 5, -64, 0, 127, -127, 3, 89, 0, 0, 0, 0, 127, 0, 0, 64 }, q); // 63.5 → 64 (even)
    }

    /// <summary>NaN and ±∞ master weights are refused for int8, naming the first offending row and column; nothing is written.</summary>
    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Int8RefusesNonFinite(float bad)
    {
        const int rows = 5, cols = 7;
        var w = new float[rows * cols];
        for (int k = 0; k < w.Length; k++) w[k] = k * 0.125f;
        w[2 * cols + 3] = bad;
        w[4 * cols + 0] = float.NaN; // a later one is not the one named
        var q = Enumerable.Repeat((sbyte)-99, w.Length).ToArray();
        var scales = Enumerable.Repeat(-99f, rows).ToArray();

        var e = Assert.Throws<ArgumentException>(() => WeightQuantization.QuantizeRows(w, rows, cols, q, scales));
        Assert.Equal("w", e.ParamName);
        Assert.Contains("row 2, column 3", e.Message, StringComparison.Ordinal);
        Assert.All(q, v => Assert.Equal(-99, v));
        Assert.All(scales, v => Assert.Equal(-99f, v));
    }

    // ---------------------------------------------------------------- non-finite values through the kernels

    /// <summary>
    /// bf16 propagates non-finite master weights: ±∞ and NaN in four rows (in the 8-, 4- and 1-row passes, three in
    /// columns the overlapping tail vector re-reads) reach exactly those rows' outputs at every width, and the other
    /// rows stay finite.
    /// </summary>
    [Fact]
    public void BFloat16PropagatesNonFiniteWeights()
    {
        int count = Math.Max(2, VectorWidth.Lanes(VectorWidth.Maximum)), rows = 13, cols = count + 3; // ≥ 5 columns, so columns 3 and 4 exist at width 1 too
        var w = new float[rows * cols];
        for (int k = 0; k < w.Length; k++) w[k] = 0.5f + (k % 5) * 0.25f;
        float[] x = Enumerable.Repeat(1f, cols).ToArray();
        // Columns 3 and 4 are re-read by the overlapping tail vector at the widest width without being its own: an
        // unmasked W lane there would turn ±∞ into ±∞ + (±∞)·0 = NaN.
        w[1 * cols + 3] = float.PositiveInfinity;  // the 8-row pass
        w[5 * cols + 0] = float.NaN;
        w[9 * cols + 4] = float.NegativeInfinity;  // the 4-row pass
        w[12 * cols + 3] = float.PositiveInfinity; // the 1-row pass
        var bits = new ushort[w.Length];
        WeightQuantization.ToBFloat16(w, bits);

        foreach (var width in Widths.Fitting(cols))
        {
            var y = new float[rows];
            BFloat16GemvAt(width, bits, rows, cols, x, y);
            for (int i = 0; i < rows; i++)
            {
                switch (i)
                {
                    case 1 or 12: Assert.Equal(float.PositiveInfinity, y[i]); break;
                    case 5: Assert.True(float.IsNaN(y[i]), $"row 5 at {width}: {y[i]}"); break;
                    case 9: Assert.Equal(float.NegativeInfinity, y[i]); break;
                    default: Assert.True(float.IsFinite(y[i]), $"row {i} at {width}: {y[i]}"); break;
                }
            }
        }
    }

    /// <summary>
    /// An infinity in x in a column the overlapping tail vector re-reads is counted once (not ∞ + 0·∞ = NaN) in both
    /// formats: every row whose weight there is positive gives +∞ at every width.
    /// </summary>
    [Fact]
    public void InfinityInOverlappedColumnsStaysInfinity()
    {
        int count = Math.Max(2, VectorWidth.Lanes(VectorWidth.Maximum)), rows = 13, cols = count + 3; // ≥ 5 columns, so columns 3 and 4 exist at width 1 too
        float[] w = Enumerable.Repeat(1f, rows * cols).ToArray();
        float[] x = Enumerable.Repeat(1f, cols).ToArray();
        x[4] = float.PositiveInfinity;
        var bits = new ushort[w.Length];
        WeightQuantization.ToBFloat16(w, bits);
        (sbyte[] q, float[] scales) = Quantize(w, rows, cols);

        foreach (var width in Widths.Fitting(cols))
        {
            var y = new float[rows];
            BFloat16GemvAt(width, bits, rows, cols, x, y);
            Assert.All(y, v => Assert.Equal(float.PositiveInfinity, v));
            y = new float[rows];
            Gemv.MultiplyAccumulateInt8At(width, q, scales, rows, cols, x, y);
            Assert.All(y, v => Assert.Equal(float.PositiveInfinity, v));
        }
    }

    // ---------------------------------------------------------------- zero sizes, arguments, allocation

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 5)]
    [InlineData(0, 40)]
    [InlineData(4, 0)]
    [InlineData(9, 0)]
    public void ZeroSizesLeaveOutputUnchanged(int rows, int cols)
    {
        float[] w = new float[rows * cols], x = Enumerable.Repeat(2f, cols).ToArray();
        float[] before = Enumerable.Range(1, rows).Select(i => (float)i).ToArray();
        var bits = new ushort[rows * cols];
        WeightQuantization.ToBFloat16(w, bits);
        (sbyte[] q, float[] scales) = Quantize(w, rows, cols);
        Assert.All(scales, s => Assert.Equal(0f, s));

        var y = (float[])before.Clone();
        BFloat16Gemv(bits, rows, cols, x, y);
        Assert.Equal(before, y);
        Gemv.MultiplyAccumulateInt8(q, scales, rows, cols, x, y);
        Assert.Equal(before, y);
        foreach (var width in VectorWidth.Supported)
        {
            BFloat16GemvAt(width, bits, rows, cols, x, y);
            Gemv.MultiplyAccumulateInt8At(width, q, scales, rows, cols, x, y);
            Assert.Equal(before, y);
        }
    }

    [Fact]
    public void WrongLengthsThrowNamingTheArgument()
    {
        const int rows = 5, cols = 9;
        float[] w = new float[rows * cols], x = new float[cols], y = new float[rows], scales = new float[rows];
        ushort[] bits = new ushort[rows * cols];
        sbyte[] q = new sbyte[rows * cols];

        static void Expect(Action call, string param, long expected, long actual)
        {
            var e = Assert.Throws<ArgumentException>(call);
            Assert.Equal(param, e.ParamName);
            Assert.Contains($"Expected length {expected}, got {actual}", e.Message, StringComparison.Ordinal);
        }

        Expect(() => Gemv.MultiplyAccumulateInt8(new sbyte[46], scales, rows, cols, x, y), "q", 45, 46);
        Expect(() => Gemv.MultiplyAccumulateInt8(q, new float[4], rows, cols, x, y), "scales", 5, 4);
        Expect(() => Gemv.MultiplyAccumulateInt8(q, scales, rows, cols, new float[10], y), "x", 9, 10);
        Expect(() => Gemv.MultiplyAccumulateInt8(q, scales, rows, cols, x, new float[4]), "y", 5, 4);
        Expect(() => WeightQuantization.QuantizeRows(new float[44], rows, cols, q, scales), "w", 45, 44);
        Expect(() => WeightQuantization.QuantizeRows(w, rows, cols, new sbyte[44], scales), "q", 45, 44);
        Expect(() => WeightQuantization.QuantizeRows(w, rows, cols, q, new float[6]), "scales", 5, 6);
        Expect(() => WeightQuantization.ToBFloat16(w, new ushort[44]), "destination", 45, 44);
        Expect(() => WeightQuantization.FromBFloat16(bits, new float[46]), "destination", 45, 46);

        Assert.Equal("cols", Assert.Throws<ArgumentOutOfRangeException>(() => Gemv.MultiplyAccumulateInt8([], [], 0, -1, [], [])).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => WeightQuantization.QuantizeRows([], -2, 3, [], [])).ParamName);
    }

    /// <summary>The aligned buffers the reduced weights live in start on a 64-byte boundary and copy their values.</summary>
    [Fact]
    public void AlignedBuffersStartOnCacheLines()
    {
        for (int length = 0; length < 70; length += 7)
        {
            var bits = new AlignedBuffer<ushort>(Enumerable.Range(0, length).Select(k => (ushort)(k * 3)).ToArray());
            var q = new AlignedBuffer<sbyte>(Enumerable.Range(0, length).Select(k => (sbyte)(k - 35)).ToArray());
            Assert.Equal(length, bits.Length);
            Assert.Equal(length, q.Length);
            Assert.Equal(Enumerable.Range(0, length).Select(k => (ushort)(k * 3)), bits.Span.ToArray());
            Assert.Equal(Enumerable.Range(0, length).Select(k => (sbyte)(k - 35)), q.Span.ToArray());
            if (length > 0)
            {
                Assert.Equal(0, Address(ref MemoryMarshal.GetReference(bits.Span)) % 64);
                Assert.Equal(0, Address(ref MemoryMarshal.GetReference(q.Span)) % 64);
            }
        }
    }

    /// <summary>The address of <paramref name="element"/> (the buffers are pinned, so it stays put).</summary>
    private static long Address<T>(ref T element) =>
        (long)Unsafe.ByteOffset(ref Unsafe.NullRef<byte>(), ref Unsafe.As<T, byte>(ref element));

    [Fact]
    public void KernelsDoNotAllocate()
    {
        var random = new Random(7);
        const int rows = 67, cols = 45;
        float[] w = Values(random, rows * cols), x = Values(random, cols), y = new float[rows];
        float[] ws = Values(random, 25 * 3), xs = Values(random, 3), ys = new float[25];
        var bits = new ushort[w.Length];
        var bitsSmall = new ushort[ws.Length];
        WeightQuantization.ToBFloat16(w, bits);
        WeightQuantization.ToBFloat16(ws, bitsSmall);
        (sbyte[] q, float[] scales) = Quantize(w, rows, cols);
        (sbyte[] qs, float[] scalesSmall) = Quantize(ws, 25, 3);
        Width[] widths = [.. VectorWidth.Supported];
        int panel = Gemv.PairedPanelRows(VectorWidth.Maximum);
        ushort[] paired = Paired(bits, rows, cols, panel), pairedSmall = Paired(bitsSmall, 25, 3, panel);

        void RunAll()
        {
            Gemv.MultiplyAccumulatePairedBFloat16(paired, rows, cols, panel, 0, rows, x, y);
            Gemv.MultiplyAccumulateInt8(q, scales, rows, cols, x, y);
            Gemv.MultiplyAccumulatePairedBFloat16(pairedSmall, 25, 3, panel, 0, 25, xs, ys); // narrow dispatch
            Gemv.MultiplyAccumulateInt8(qs, scalesSmall, 25, 3, xs, ys);
            for (int k = 0; k < widths.Length; k++)
            {
                Gemv.MultiplyAccumulatePairedBFloat16At(widths[k], paired, rows, cols, panel, 0, rows, x, y);
                Gemv.MultiplyAccumulateInt8At(widths[k], q, scales, rows, cols, x, y);
            }
        }

        Assert.Equal(0, Allocations.Of(RunAll, 200));
    }
}
