using SimdRnn.Kernels.Vectors;
using SimdRnn.Tests.Support;
using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;

namespace SimdRnn.Tests.Kernels;

/// <summary>
/// The GEMV kernels (public entry point, vectorized kernel, scalar twin) against a double-precision naive computation
/// written here.
/// </summary>
/// <remarks>
/// <para>Tolerance. Every output element is a float32 sum of m terms t_k (the old value of the element, or the bias,
/// plus m − 1 products of float32 inputs), evaluated in some order (sequential, lane-wise then a tree of horizontal
/// adds, FMA or multiply-then-add). In any evaluation tree each term passes through at most m − 1 additions and at most
/// one product rounding, so with unit roundoff u = 2^-24 (round to nearest) the standard forward bound is
/// |computed − exact| ≤ γ_m · Σ_k |t_k|, γ_m = m·u / (1 − m·u) (Higham, Accuracy and Stability, §3.1 and §4.2).
/// It needs no underflow: the generated values are k·2^-18 with |k| ≤ 2^20, so every non-zero product is ≥ 2^-36 in
/// magnitude. The exact value is itself computed in double with the same kind of bound, γ_m(2^-53)·Σ|t_k|, which is
/// added (it is 2^-29 times smaller). A missing or doubled term is typically of magnitude ~1, far above the bound
/// (≈ 68·6e-8·Σ|t_k| ≈ 4e-6·Σ|t_k| at the largest random shape), so index errors do not hide in the tolerance.</para>
/// </remarks>
[Trait("Category", "Kernels")]
public sealed class GemvTests
{
    private const double UnitRoundoff32 = 1.0 / (1 << 24);
    private const double UnitRoundoff64 = 1.0 / (1L << 53);

    private static double Gamma(int m, double u) => m * u / (1 - m * u);

    /// <summary>The allowed error of a float32 sum of <paramref name="m"/> terms whose magnitudes sum to <paramref name="absSum"/>.</summary>
    private static double Tolerance(int m, double absSum) => (Gamma(m, UnitRoundoff32) + Gamma(m, UnitRoundoff64)) * absSum;

    // ---------------------------------------------------------------- data

    /// <summary>A value k·2^-18, |k| ≤ 2^20 (|v| ≤ 4, up to 21 significant bits, so products round).</summary>
    private static float Value(Random random) => random.Next(-(1 << 20), (1 << 20) + 1) * (1f / (1 << 18));

    private static float[] Values(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = Value(random);
        return values;
    }

    /// <summary>Shapes rows, cols in 0..67 (both), with a seed for the values.</summary>
    private static Arbitrary<(int Rows, int Cols, int Seed)> Shapes() =>
        Gen.Choose(0, 67).SelectMany(rows => Gen.Choose(0, 67).SelectMany(cols => Gen.Choose(0, int.MaxValue).Select(seed => (rows, cols, seed))))
            .ToArbitrary();

    // ---------------------------------------------------------------- references (double precision)

    /// <summary>Checks y0 + W·x (exact, in double) against <paramref name="got"/>.</summary>
    private static void CheckMultiply(float[] w, int rows, int cols, float[] x, float[] y0, float[] got, string what)
    {
        for (int i = 0; i < rows; i++)
        {
            double exact = y0[i], abs = Math.Abs((double)y0[i]);
            for (int j = 0; j < cols; j++)
            {
                double term = (double)w[i * cols + j] * x[j];
                exact += term;
                abs += Math.Abs(term);
            }
            AssertClose(exact, got[i], Tolerance(cols + 1, abs), what, i, rows, cols);
        }
    }

    /// <summary>Checks y0 + Wᵀ·x (exact, in double) against <paramref name="got"/>.</summary>
    private static void CheckMultiplyTransposed(float[] w, int rows, int cols, float[] x, float[] y0, float[] got, string what)
    {
        for (int j = 0; j < cols; j++)
        {
            double exact = y0[j], abs = Math.Abs((double)y0[j]);
            for (int i = 0; i < rows; i++)
            {
                double term = (double)w[i * cols + j] * x[i];
                exact += term;
                abs += Math.Abs(term);
            }
            AssertClose(exact, got[j], Tolerance(rows + 1, abs), what, j, rows, cols);
        }
    }

    /// <summary>Checks G0 + a·bᵀ (exact, in double) against <paramref name="got"/>.</summary>
    private static void CheckOuterProduct(float[] g0, int rows, int cols, float[] a, float[] b, float[] got, string what)
    {
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                double term = (double)a[i] * b[j];
                double exact = g0[i * cols + j] + term;
                double abs = Math.Abs((double)g0[i * cols + j]) + Math.Abs(term);
                AssertClose(exact, got[i * cols + j], Tolerance(2, abs), what, i * cols + j, rows, cols);
            }
        }
    }

    private static void AssertClose(double exact, float got, double tolerance, string what, int index, int rows, int cols)
    {
        double error = Math.Abs(got - exact);
        Assert.True(error <= tolerance,
            $"{what} ({rows}×{cols}) element {index}: got {got:R}, exact {exact:R}, error {error:E3} > tolerance {tolerance:E3}");
    }

    // ---------------------------------------------------------------- y += W·x, y = W·x + b

    private static void RunMultiply(int rows, int cols, int seed)
    {
        var random = new Random(seed);
        float[] w = Values(random, rows * cols), x = Values(random, cols), y0 = Values(random, rows), b = Values(random, rows);

        var y = (float[])y0.Clone();
        Gemv.MultiplyAccumulate(w, rows, cols, x, y);
        CheckMultiply(w, rows, cols, x, y0, y, "MultiplyAccumulate");

        foreach (var width in Widths.Fitting(cols))
        {
            y = (float[])y0.Clone();
            Gemv.MultiplyAccumulateAt(width, w, rows, cols, x, y);
            CheckMultiply(w, rows, cols, x, y0, y, $"MultiplyAccumulate at {width}");
        }

        y = Values(random, rows); // garbage that must be overwritten
        Gemv.MultiplyAdd(w, rows, cols, x, b, y);
        CheckMultiply(w, rows, cols, x, b, y, "MultiplyAdd");
    }

    private static void RunMultiplyTransposed(int rows, int cols, int seed)
    {
        var random = new Random(seed);
        float[] w = Values(random, rows * cols), x = Values(random, rows), y0 = Values(random, cols);

        var y = (float[])y0.Clone();
        Gemv.MultiplyTransposedAccumulate(w, rows, cols, x, y);
        CheckMultiplyTransposed(w, rows, cols, x, y0, y, "MultiplyTransposedAccumulate");

        foreach (var width in Widths.Fitting(cols))
        {
            y = (float[])y0.Clone();
            Gemv.MultiplyTransposedAccumulateAt(width, w, rows, cols, x, y);
            CheckMultiplyTransposed(w, rows, cols, x, y0, y, $"MultiplyTransposedAccumulate at {width}");
        }
    }

    private static void RunOuterProduct(int rows, int cols, int seed)
    {
        var random = new Random(seed);
        float[] g0 = Values(random, rows * cols), a = Values(random, rows), b = Values(random, cols);

        var g = (float[])g0.Clone();
        Gemv.AddOuterProduct(g, rows, cols, a, b);
        CheckOuterProduct(g0, rows, cols, a, b, g, "AddOuterProduct");

        foreach (var width in Widths.Fitting(cols))
        {
            g = (float[])g0.Clone();
            Gemv.AddOuterProductAt(width, g, rows, cols, a, b);
            CheckOuterProduct(g0, rows, cols, a, b, g, $"AddOuterProduct at {width}");
        }
    }

    [Property(MaxTest = 300)]
    public Property MultiplyMatchesExact() =>
        Prop.ForAll(Shapes(), s => RunMultiply(s.Rows, s.Cols, s.Seed));

    [Property(MaxTest = 300)]
    public Property MultiplyTransposedMatchesExact() =>
        Prop.ForAll(Shapes(), s => RunMultiplyTransposed(s.Rows, s.Cols, s.Seed));

    [Property(MaxTest = 300)]
    public Property OuterProductMatchesExact() =>
        Prop.ForAll(Shapes(), s => RunOuterProduct(s.Rows, s.Cols, s.Seed));

    /// <summary>The seed document's shapes (25 hidden units, 3 inputs, 1 output), and large odd shapes.</summary>
    [Theory]
    [InlineData(25, 3)]
    [InlineData(25, 25)]
    [InlineData(1, 25)]
    [InlineData(3, 25)]
    [InlineData(75, 3)]
    [InlineData(1027, 515)]
    [InlineData(515, 1027)]
    [InlineData(384, 192)]
    public void FixedShapesMatchExact(int rows, int cols)
    {
        RunMultiply(rows, cols, seed: 12345);
        RunMultiplyTransposed(rows, cols, seed: 23456);
        RunOuterProduct(rows, cols, seed: 34567);
    }

    /// <summary>Every column count up to 3 vectors + 1 and every row count up to 13 (the 8-row, 4-row and 1-row blocks and their mixes), exhaustively.</summary>
    [Fact]
    public void AllSmallShapesMatchExact()
    {
        for (int rows = 0; rows <= 13; rows++)
        {
            for (int cols = 0; cols <= 3 * Vector<float>.Count + 1; cols++)
            {
                RunMultiply(rows, cols, seed: rows * 100 + cols);
                RunMultiplyTransposed(rows, cols, seed: rows * 100 + cols + 1);
                RunOuterProduct(rows, cols, seed: rows * 100 + cols + 2);
            }
        }
    }

    // ---------------------------------------------------------------- non-finite values in the tail overlap

    /// <summary>
    /// An infinity in a column that the overlapping tail vector re-reads must be counted once, not turn into
    /// ∞ + 0·∞ = NaN: each kernel must agree with the scalar twin exactly in which elements are infinite or NaN.
    /// </summary>
    [Fact]
    public void InfinityInOverlappedColumnsStaysInfinity()
    {
        // At least 2 lanes, so that columns 3 and 4 exist when the kernels run one lane wide (SIMDRNN_VECTOR_WIDTH=1).
        int count = Math.Max(2, VectorWidth.Lanes(VectorWidth.Maximum)), rows = 5, cols = count + 3;
        var w = new float[rows * cols];
        var x = new float[cols];
        for (int i = 0; i < w.Length; i++) w[i] = 1f;
        for (int j = 0; j < cols; j++) x[j] = 1f;
        w[cols * 2 + 3] = float.PositiveInfinity; // row 2, a column the tail vector overlaps but does not own
        x[4] = float.PositiveInfinity;           // likewise in x

        var expected = new float[rows];
        Gemv.MultiplyAccumulateAt(Width.Scalar, w, rows, cols, x, expected);
        foreach (var width in Widths.Fitting(cols))
        {
            var got = new float[rows];
            Gemv.MultiplyAccumulateAt(width, w, rows, cols, x, got);
            Assert.Equal(expected, got);
            Assert.All(got, v => Assert.Equal(float.PositiveInfinity, v));
        }
    }

    // ---------------------------------------------------------------- zero sizes

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 5)]
    [InlineData(0, 40)]
    [InlineData(4, 0)]
    [InlineData(7, 0)]
    public void ZeroSizesLeaveOutputUnchanged(int rows, int cols)
    {
        float[] w = new float[rows * cols], x = Enumerable.Repeat(2f, cols).ToArray();
        float[] before = Enumerable.Range(1, rows).Select(i => (float)i).ToArray();

        var y = (float[])before.Clone();
        Gemv.MultiplyAccumulate(w, rows, cols, x, y);
        Assert.Equal(before, y);

        var b = Enumerable.Range(1, rows).Select(i => 0.5f * i).ToArray();
        y = Enumerable.Repeat(99f, rows).ToArray();
        Gemv.MultiplyAdd(w, rows, cols, x, b, y);
        Assert.Equal(b, y);

        float[] xt = Enumerable.Repeat(3f, rows).ToArray();
        float[] beforeT = Enumerable.Range(1, cols).Select(i => (float)i).ToArray();
        var yt = (float[])beforeT.Clone();
        Gemv.MultiplyTransposedAccumulate(w, rows, cols, xt, yt);
        Assert.Equal(beforeT, yt);

        var g = new float[rows * cols];
        Gemv.AddOuterProduct(g, rows, cols, xt, x);
        Assert.Equal(new float[rows * cols], g);
    }

    // ---------------------------------------------------------------- argument validation

    private static void AssertLengthError(Action call, string param, long expected, long actual)
    {
        var e = Assert.Throws<ArgumentException>(call);
        Assert.Equal(param, e.ParamName);
        Assert.Contains($"Expected length {expected}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"got {actual}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongLengthsThrowNamingTheArgument()
    {
        const int rows = 5, cols = 9;
        float[] w = new float[rows * cols], x = new float[cols], b = new float[rows], y = new float[rows];

        AssertLengthError(() => Gemv.MultiplyAdd(new float[44], rows, cols, x, b, y), "w", 45, 44);
        AssertLengthError(() => Gemv.MultiplyAdd(w, rows, cols, new float[8], b, y), "x", 9, 8);
        AssertLengthError(() => Gemv.MultiplyAdd(w, rows, cols, x, new float[6], y), "b", 5, 6);
        AssertLengthError(() => Gemv.MultiplyAdd(w, rows, cols, x, b, new float[4]), "y", 5, 4);

        AssertLengthError(() => Gemv.MultiplyAccumulate(new float[46], rows, cols, x, y), "w", 45, 46);
        AssertLengthError(() => Gemv.MultiplyAccumulate(w, rows, cols, new float[10], y), "x", 9, 10);
        AssertLengthError(() => Gemv.MultiplyAccumulate(w, rows, cols, x, new float[9]), "y", 5, 9);

        AssertLengthError(() => Gemv.MultiplyTransposedAccumulate(new float[0], rows, cols, b, x), "w", 45, 0);
        AssertLengthError(() => Gemv.MultiplyTransposedAccumulate(w, rows, cols, x, x), "x", 5, 9);
        AssertLengthError(() => Gemv.MultiplyTransposedAccumulate(w, rows, cols, b, b), "y", 9, 5);

        AssertLengthError(() => Gemv.AddOuterProduct(new float[45 * 2], rows, cols, b, x), "g", 45, 90);
        AssertLengthError(() => Gemv.AddOuterProduct(w, rows, cols, x, x), "a", 5, 9);
        AssertLengthError(() => Gemv.AddOuterProduct(w, rows, cols, b, b), "b", 9, 5);
    }

    [Fact]
    public void NegativeShapeThrows()
    {
        float[] empty = [];
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => Gemv.MultiplyAccumulate(empty, -1, 0, empty, empty)).ParamName);
        Assert.Equal("cols", Assert.Throws<ArgumentOutOfRangeException>(() => Gemv.MultiplyTransposedAccumulate(empty, 0, -1, empty, empty)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => Gemv.AddOuterProduct(empty, -2, 3, empty, empty)).ParamName);
        Assert.Equal("cols", Assert.Throws<ArgumentOutOfRangeException>(() => Gemv.MultiplyAdd(empty, 0, -3, empty, empty, empty)).ParamName);
    }

    // ---------------------------------------------------------------- allocation

    [Fact]
    public void KernelsDoNotAllocate()
    {
        var random = new Random(7);
        const int rows = 67, cols = 45;
        float[] w = Values(random, rows * cols), x = Values(random, cols), xt = Values(random, rows);
        float[] b = Values(random, rows), y = new float[rows], yt = new float[cols];
        float[] ws = Values(random, 25 * 3), xs = Values(random, 3), bs = Values(random, 25), ys = new float[25];

        void RunAll()
        {
            Gemv.MultiplyAdd(w, rows, cols, x, b, y);
            Gemv.MultiplyAccumulate(w, rows, cols, x, y);
            Gemv.MultiplyTransposedAccumulate(w, rows, cols, xt, yt);
            Gemv.AddOuterProduct(w, rows, cols, xt, x);
            Gemv.MultiplyAdd(ws, 25, 3, xs, bs, ys); // scalar dispatch
        }

        Assert.Equal(0, SimdRnn.Tests.Support.Allocations.Of(RunAll, 200));
    }
}
