using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Kernels;

/// <summary>
/// The int8×int16 GEMV (<c>Gemv.MultiplyAccumulateInt8QuantizedInput</c>, the <c>Int8WithInt16Activations</c> format's
/// W_hh products) at every width, against a reference written here that applies the recipe independently: s_x as the
/// float32 quotient of max|x| by 32767, a_j as the float32 quotient x_j / s_x rounded half to even, the integer sum
/// Σ q·a in 64-bit integers, and the row's result in double.
/// </summary>
/// <remarks>
/// Tolerance: the kernel's integer sum is exact; what remains is float32 rounding of S (one), of s_i·s_x (one), of their
/// product (one) and of the add into y (one): |computed − exact| ≤ γ_4·(|y0| + |S·s_i·s_x|) with u = 2^-24. A flipped
/// activation (a_j off by one) changes a row by |q|·s_i·s_x ≈ 2^-15 of the row's largest term, far above that.
/// </remarks>
[Trait("Category", "Kernels")]
public sealed class QuantizedInputGemvTests
{
    private const double UnitRoundoff32 = 1.0 / (1 << 24);

    /// <summary>The recipe's activations: s_x = fl(max|x| / 32767) and a_j = round-half-to-even(fl(x_j / s_x)).</summary>
    internal static (long[] A, float Scale) QuantizeReference(ReadOnlySpan<float> x)
    {
        double max = 0;
        foreach (float v in x) max = Math.Max(max, Math.Abs((double)v));
        // The double quotient rounded to float32 is the correctly rounded float32 quotient (53 ≥ 2·24 + 2).
        float scale = (float)(max / 32767.0);
        var a = new long[x.Length];
        for (int j = 0; j < x.Length; j++) a[j] = (long)Math.Round((double)(float)(x[j] / (double)scale), MidpointRounding.ToEven);
        return (a, scale);
    }

    /// <summary>y0[i] + (Σ_j q[i,j]·a_j)·s_i·s_x in double, and the magnitude the tolerance is taken of.</summary>
    private static (double[] Y, double[] Magnitude) Reference(PackedMatrix w, int first, int count, float[] x, float[] y0)
    {
        var (a, scale) = QuantizeReference(x);
        ReadOnlySpan<sbyte> q = w.Int8Data;
        var y = new double[count];
        var magnitude = new double[count];
        for (int i = 0; i < count; i++)
        {
            long sum = 0;
            for (int j = 0; j < w.Cols; j++) sum += q[(first + i) * w.Cols + j] * a[j];
            double product = sum * (double)w.RowScales[first + i] * scale;
            y[i] = y0[i] + product;
            magnitude[i] = Math.Abs(y0[i]) + Math.Abs(product);
        }
        return (y, magnitude);
    }

    private static PackedMatrix Matrix(Random random, int rows, int cols) =>
        PackedMatrix.From(WeightFormat.Int8, ReducedPrecisionGemvTests.Values(random, rows * cols), rows, cols).WithQuantizedInputs();

    private static Arbitrary<(int Rows, int Cols, int Seed)> Shapes() =>
        Gen.Choose(1, 67).SelectMany(rows => Gen.Choose(1, 67).SelectMany(cols => Gen.Choose(0, int.MaxValue).Select(seed => (rows, cols, seed))))
            .ToArbitrary();

    [Property(MaxTest = 200)]
    public Property Matches_the_recipe_at_every_width_with_the_same_bits() =>
        Prop.ForAll(Shapes(), shape =>
        {
            var (rows, cols, seed) = shape;
            var random = new Random(seed);
            var w = Matrix(random, rows, cols);
            int first = random.Next(rows), count = random.Next(0, rows - first + 1);
            float[] x = ReducedPrecisionGemvTests.Values(random, cols), y0 = ReducedPrecisionGemvTests.Values(random, count);
            var (expected, magnitude) = Reference(w, first, count, x, y0);
            float[]? firstBits = null;
            foreach (var width in Widths.Fitting(cols))
            {
                var y = (float[])y0.Clone();
                Gemv.MultiplyAccumulateInt8QuantizedInputAt(width, w, first, count, x, 1, y);
                for (int i = 0; i < count; i++)
                    Assert.True(Math.Abs(y[i] - expected[i]) <= ReducedPrecisionGemvTests.Gamma(4, UnitRoundoff32) * magnitude[i],
                        $"{width} {rows}x{cols} rows [{first}, {first + count}): y[{i}] = {y[i]:R}, expected {expected[i]:R}");
                // Integer sums are exact, so every width gives the same bits.
                firstBits ??= y;
                Assert.Equal(firstBits, y);
            }
        });

    [Property(MaxTest = 100)]
    public Property Several_input_rows_give_each_row_its_own_bits_at_every_width() =>
        Prop.ForAll(Shapes(), Gen.Choose(0, 11).ToArbitrary(), (shape, inputRows) =>
        {
            // Rows of X in fours share the widened weights (RunFourInputs); a zero row in a four sends the four through
            // the one-row path (its fallback included). Each row must get the one-row kernel's bits, at every width.
            var (rows, cols, seed) = shape;
            var random = new Random(seed);
            var w = Matrix(random, rows, cols);
            int first = random.Next(rows), count = random.Next(0, rows - first + 1);
            float[] x = ReducedPrecisionGemvTests.Values(random, inputRows * cols), y0 = ReducedPrecisionGemvTests.Values(random, inputRows * count);
            if (inputRows > 5 && random.Next(2) == 0) Array.Clear(x, 5 * cols, cols);
            foreach (var width in Widths.Fitting(cols))
            {
                var together = (float[])y0.Clone();
                Gemv.MultiplyAccumulateInt8QuantizedInputAt(width, w, first, count, x, inputRows, together);
                for (int m = 0; m < inputRows; m++)
                {
                    var alone = y0.AsSpan(m * count, count).ToArray();
                    Gemv.MultiplyAccumulateInt8QuantizedInputAt(width, w, first, count, x.AsSpan(m * cols, cols), 1, alone);
                    Assert.Equal(alone, together.AsSpan(m * count, count).ToArray());
                }
            }
        });

    [Fact]
    public void Sums_beyond_int32_are_exact_across_column_blocks()
    {
        // Every q = 127 and every a = 32767: S = 127·32767·1100 ≈ 4.6e9 > 2^31, summed over three 512-column blocks.
        const int rows = 5, cols = 1100;
        var master = new float[rows * cols];
        Array.Fill(master, 0.5f);
        var w = PackedMatrix.From(WeightFormat.Int8, master, rows, cols).WithQuantizedInputs();
        var x = new float[cols];
        Array.Fill(x, -3f);
        double expected = 127L * -32767L * cols * (double)w.RowScales[0] * (float)(3.0 / 32767.0);
        foreach (var width in Widths.Fitting(cols))
        {
            var y = new float[rows];
            Gemv.MultiplyAccumulateInt8QuantizedInputAt(width, w, 0, rows, x, 1, y);
            foreach (float v in y) Assert.True(Math.Abs(v - expected) <= 4 * UnitRoundoff32 * Math.Abs(expected), $"{width}: {v:R} vs {expected:R}");
            // Four input rows at once (the shared-widening kernel) sum across the blocks as exactly.
            var four = new float[4 * rows];
            Gemv.MultiplyAccumulateInt8QuantizedInputAt(width, w, 0, rows, [.. x, .. x, .. x, .. x], 4, four);
            foreach (float v in four) Assert.Equal(y[0], v);
        }
    }

    [Theory]
    [InlineData("zeros")]
    [InlineData("tiny")]
    [InlineData("nan")]
    [InlineData("infinity")]
    public void Inputs_whose_scale_is_not_normal_take_the_int8_products(string kind)
    {
        // s_x = max|x| / 32767 is 0, subnormal, NaN or ∞: the product is the int8 format's (float activations), bit for bit.
        var random = new Random(3);
        const int rows = 9, cols = 37;
        var w = Matrix(random, rows, cols);
        var plain = PackedMatrix.From(WeightFormat.Int8, ReducedPrecisionGemvTests.Values(new Random(3), rows * cols), rows, cols);
        var x = kind == "zeros" ? new float[cols] : ReducedPrecisionGemvTests.Values(random, cols);
        if (kind == "tiny") for (int j = 0; j < cols; j++) x[j] = j % 3 == 0 ? 1e-40f : -2e-41f;
        if (kind == "nan") x[5] = float.NaN;
        if (kind == "infinity") x[20] = float.NegativeInfinity;
        float[] y0 = ReducedPrecisionGemvTests.Values(random, rows);
        foreach (var width in Widths.Fitting(cols))
        {
            float[] y = (float[])y0.Clone(), expected = (float[])y0.Clone();
            Gemv.MultiplyAccumulateInt8QuantizedInputAt(width, w, 0, rows, x, 1, y);
            Gemv.MultiplyAccumulateInt8At(width, plain.Int8Data, plain.RowScales, rows, cols, x, expected);
            Assert.Equal(expected, y);
            if (kind == "nan") Assert.Contains(y, float.IsNaN);
            if (kind == "infinity") Assert.Contains(y, float.IsInfinity);
        }
    }

    [Fact]
    public void Ties_round_to_even_and_the_largest_element_maps_to_32767()
    {
        // x = [32767, 0.5, 1.5, 2.5, −0.5, −2.5] with s_x = 1: a = [32767, 0, 2, 2, 0, −2].
        var x = new float[] { 32767f, 0.5f, 1.5f, 2.5f, -0.5f, -2.5f };
        var (a, scale) = QuantizeReference(x);
        Assert.Equal(1f, scale);
        Assert.Equal([32767L, 0, 2, 2, 0, -2], a);
        // One-hot weight rows read each activation back: row r has 127 in column r, so y_r = a_r·s_r·s_x with s_r = w/127.
        const int n = 6;
        var master = new float[n * n];
        for (int r = 0; r < n; r++) master[r * n + r] = 127f;
        var w = PackedMatrix.From(WeightFormat.Int8, master, n, n).WithQuantizedInputs();
        foreach (var width in Widths.Fitting(n))
        {
            var y = new float[n];
            Gemv.MultiplyAccumulateInt8QuantizedInputAt(width, w, 0, n, x, 1, y);
            Assert.Equal(a.Select(v => (float)(v * 127)).ToArray(), y);
        }
    }

    [Fact]
    public void Only_int8_matrices_quantize_their_inputs() =>
        Assert.Throws<InvalidOperationException>(() => PackedMatrix.FromFloat32(new float[6], 2, 3).WithQuantizedInputs());
}
