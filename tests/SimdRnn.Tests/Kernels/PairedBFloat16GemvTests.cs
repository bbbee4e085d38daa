using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Kernels;

/// <summary>
/// The bf16 GEMV over the paired column layout (<c>Gemv.MultiplyAccumulatePairedBFloat16</c>, what bf16 networks run
/// for one-row products) at every width, against a double-precision reference of the bf16 recipe written here
/// (<see cref="ReducedPrecisionGemvTests.BFloat16Reference"/>: rounding by the format's spacing, no bit tricks), on
/// that class's data (k·2^-18).
/// </summary>
/// <remarks>
/// Tolerance: the kernel forms y0 + (Σ_j w_j·x_j summed in column order, one fused multiply-add per term), so each term
/// passes through at most cols + 1 roundings and the standard forward bound (Higham §3.1) gives
/// |computed − exact| ≤ γ_{cols+1}·(|y0| + Σ|w_j·x_j|), u = 2^-24, plus the reference's own γ at u = 2^-53. The data are
/// k·2^-18 (|k| ≤ 2^20), so no product underflows; a missing or doubled term (~1) is far above the bound. Because every
/// row is summed in the same order in its own lane, the kernel must also give the same bits at every width and for any
/// panel size — asserted exactly.
/// </remarks>
[Trait("Category", "Kernels")]
public sealed class PairedBFloat16GemvTests
{
    private static float[] Values(Random random, int length) => ReducedPrecisionGemvTests.Values(random, length);

    /// <summary>W [rows × cols] (row-major floats) rounded to bf16 and packed in the paired layout with <paramref name="panelRows"/>.</summary>
    private static ushort[] Pack(float[] w, int rows, int cols, int panelRows)
    {
        var packed = new ushort[Gemv.PairedLength(rows, cols)];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                packed[Gemv.PairedIndex(rows, cols, panelRows, i, j)] = WeightQuantization.ToBFloat16(w[i * cols + j]);
        return packed;
    }

    /// <summary>y0 + W_bf16[first .. first + count)·x in double against <paramref name="got"/>.</summary>
    private static void Check(float[] w, int cols, int first, float[] x, float[] y0, float[] got, string what)
    {
        for (int i = 0; i < y0.Length; i++)
        {
            double exact = y0[i], abs = Math.Abs((double)y0[i]);
            for (int j = 0; j < cols; j++)
            {
                double term = ReducedPrecisionGemvTests.BFloat16Reference(w[(first + i) * cols + j]) * x[j];
                exact += term;
                abs += Math.Abs(term);
            }
            double tolerance = (ReducedPrecisionGemvTests.Gamma(cols + 1, 1.0 / (1 << 24)) + ReducedPrecisionGemvTests.Gamma(cols + 1, 1.0 / (1L << 53))) * abs;
            double error = Math.Abs(got[i] - exact);
            Assert.True(error <= tolerance, $"{what}: row {first + i} got {got[i]:R}, exact {exact:R}, error {error:E3} > {tolerance:E3}");
        }
    }

    /// <summary>
    /// One case: rows [first, first + count) of a rows × cols matrix packed with panels of every size a width uses and two
    /// odd ones, at every width that fits count (and through the width-choosing entry); all must agree bit for bit.
    /// </summary>
    private static void Run(int rows, int cols, int first, int count, int seed)
    {
        var random = new Random(seed);
        float[] w = Values(random, rows * cols), x = Values(random, cols), y0 = Values(random, count);
        float[]? expected = null;
        int[] panels = [.. VectorWidth.Supported.Select(Gemv.PairedPanelRows), 3, 1 + seed % 29];
        foreach (int panelRows in panels.Distinct())
        {
            ushort[] packed = Pack(w, rows, cols, panelRows);
            var y = (float[])y0.Clone();
            Gemv.MultiplyAccumulatePairedBFloat16(packed, rows, cols, panelRows, first, count, x, y);
            Check(w, cols, first, x, y0, y, $"{rows}×{cols} rows [{first}, +{count}) panels of {panelRows}");
            expected ??= y;
            Assert.Equal(expected, y);
            foreach (var width in Widths.Fitting(count))
            {
                y = (float[])y0.Clone();
                Gemv.MultiplyAccumulatePairedBFloat16At(width, packed, rows, cols, panelRows, first, count, x, y);
                Assert.True(expected.AsSpan().SequenceEqual(y), $"{rows}×{cols} rows [{first}, +{count}) panels of {panelRows}: {width} differs from the others");
            }
        }
    }

    /// <summary>Shapes 0..67 × 0..67 and up to 300 rows (several 128-row panels), with a random block of rows.</summary>
    [Property(MaxTest = 300)]
    public Property MatchesRecipeAtEveryWidthAndPanel() =>
        Prop.ForAll(
            Gen.OneOf(Gen.Choose(0, 67), Gen.Choose(0, 300)).SelectMany(rows => Gen.Choose(0, 67).SelectMany(cols =>
                Gen.Choose(0, rows).SelectMany(first => Gen.Choose(0, rows - first).SelectMany(count =>
                    Gen.Choose(0, 1 << 20).Select(seed => (rows, cols, first, count, seed)))))).ToArbitrary(),
            s => Run(s.rows, s.cols, s.first, s.count, s.seed));

    /// <summary>The step and sequence shapes of the benchmarks (a GRU's three gate blocks of 128 and 512 rows), and large odd ones.</summary>
    [Theory]
    [InlineData(384, 64, 0, 384)]
    [InlineData(384, 128, 256, 128)]
    [InlineData(1536, 512, 1024, 512)]
    [InlineData(1027, 515, 0, 1027)]
    [InlineData(1027, 515, 130, 700)]
    public void FixedShapesMatchRecipe(int rows, int cols, int first, int count) => Run(rows, cols, first, count, seed: rows + cols);

    /// <summary>The layout places every element at its own index inside the buffer, for odd and even shapes and panels.</summary>
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 7, 3)]
    [InlineData(130, 9, 128)]
    [InlineData(300, 64, 64)]
    [InlineData(17, 2, 8)]
    public void LayoutIsABijection(int rows, int cols, int panelRows)
    {
        int length = Gemv.PairedLength(rows, cols);
        var seen = new bool[length];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                int k = Gemv.PairedIndex(rows, cols, panelRows, i, j);
                Assert.InRange(k, 0, length - 1);
                Assert.False(seen[k], $"({i}, {j}) shares index {k}");
                seen[k] = true;
            }
        }
        // Only the high halves of an odd last column are left (the padding).
        Assert.Equal(cols % 2 == 1 ? rows : 0, seen.Count(s => !s));
    }

    /// <summary>NaN and ±∞ propagate to their own row only (the overlapping last vector adds nothing to rows it already did).</summary>
    [Fact]
    public void NonFiniteValuesStayInTheirRow()
    {
        foreach (int rows in new[] { 5, 37, 131 })
        {
            const int cols = 7;
            var random = new Random(rows);
            float[] w = Values(random, rows * cols), x = Values(random, cols);
            w[2 * cols + 3] = float.NaN;
            w[(rows - 1) * cols + 6] = float.PositiveInfinity; // the odd last column
            x[1] = x[1] == 0 ? 1 : x[1];
            foreach (var width in Widths.Fitting(rows))
            {
                var y = new float[rows];
                Gemv.MultiplyAccumulatePairedBFloat16At(width, Pack(w, rows, cols, Gemv.PairedPanelRows(width)), rows, cols, Gemv.PairedPanelRows(width), 0, rows, x, y);
                for (int i = 0; i < rows; i++)
                {
                    if (i == 2) Assert.True(float.IsNaN(y[i]), $"{width}: row 2 should be NaN");
                    else if (i == rows - 1) Assert.Equal(x[6] > 0 ? float.PositiveInfinity : float.NegativeInfinity, y[i]);
                    else Assert.True(float.IsFinite(y[i]), $"{width}: row {i} = {y[i]}");
                }
            }
        }
    }

    [Fact]
    public void WrongArgumentsThrowNamingTheArgument()
    {
        const int rows = 5, cols = 9;
        ushort[] packed = new ushort[Gemv.PairedLength(rows, cols)];
        float[] x = new float[cols], y = new float[rows];
        Assert.Equal("w", Assert.Throws<ArgumentException>(() => Gemv.MultiplyAccumulatePairedBFloat16(new ushort[49], rows, cols, 8, 0, rows, x, y)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Gemv.MultiplyAccumulatePairedBFloat16(packed, rows, cols, 8, 0, rows, new float[8], y)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Gemv.MultiplyAccumulatePairedBFloat16(packed, rows, cols, 8, 0, rows, x, new float[4])).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => Gemv.MultiplyAccumulatePairedBFloat16(packed, rows, cols, 8, 3, 3, x, new float[3])).ParamName);
        Assert.Equal("panelRows", Assert.Throws<ArgumentOutOfRangeException>(() => Gemv.MultiplyAccumulatePairedBFloat16(packed, rows, cols, 0, 0, rows, x, y)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => Gemv.MultiplyAccumulatePairedBFloat16([], -1, 0, 8, 0, 0, [], [])).ParamName);
    }

    [Fact]
    public void DoesNotAllocate()
    {
        var random = new Random(3);
        const int rows = 300, cols = 45;
        float[] w = Values(random, rows * cols), x = Values(random, cols), y = new float[rows];
        int panel = Gemv.PairedPanelRows(VectorWidth.Maximum);
        ushort[] packed = Pack(w, rows, cols, panel);
        Width[] widths = [.. VectorWidth.Supported];
        void RunAll()
        {
            Gemv.MultiplyAccumulatePairedBFloat16(packed, rows, cols, panel, 0, rows, x, y);
            Gemv.MultiplyAccumulatePairedBFloat16(packed, rows, cols, panel, 7, 3, x, y.AsSpan(0, 3)); // narrow, one lane
            foreach (var width in widths) Gemv.MultiplyAccumulatePairedBFloat16At(width, packed, rows, cols, panel, 1, rows - 1, x, y.AsSpan(1));
        }
        Assert.Equal(0, Allocations.Of(RunAll, repetitions: 1));
    }
}
