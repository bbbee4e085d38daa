using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;

namespace SimdRnn.Tests.Kernels;

/// <summary>
/// The three GEMM forms — public entry, vector kernel and scalar twin — against a double-precision naive product
/// written here, over random shapes 0..67 in each dimension (across vector-width multiples and tails), a few larger
/// shapes that cross the cache blocks, zero sizes, bad arguments and allocations.
/// </summary>
[Trait("Category", "Kernels")]
public class GemmTests
{
    private delegate void MultiplyTransposedFn(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c, bool accumulate);
    private delegate void MultiplyAccumulateFn(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c);
    private delegate void TransposedMultiplyAccumulateFn(ReadOnlySpan<float> a, int k, int m, ReadOnlySpan<float> b, int n, Span<float> c);

    /// <summary>The operand layouts: how A(i, p) and B(p, j) of C[i, j] = Σ_p A(i, p)·B(p, j) are stored.</summary>
    private enum Form { ABt, AB, AtB }

    private sealed record Case(int M, int N, int K, float[] A, float[] B, float[] C, bool Accumulate)
    {
        public override string ToString() => $"M={M} N={N} K={K} accumulate={Accumulate}";
    }

    /// <summary>
    /// Shapes 0..67 each, values uniform in [−1, 1) with about one in eight an exact zero; C starts with values too,
    /// so an overwrite that fails to ignore them, or an accumulate that drops them, shows.
    /// </summary>
    private static Arbitrary<Case> Cases() =>
        (from m in Gen.Choose(0, 67)
         from n in Gen.Choose(0, 67)
         from k in Gen.Choose(0, 67)
         from seed in Gen.Choose(0, int.MaxValue)
         from accumulate in Gen.Elements(true, false)
         select MakeCase(m, n, k, seed, accumulate)).ToArbitrary();

    private static Case MakeCase(int m, int n, int k, int seed, bool accumulate)
    {
        var random = new Random(seed);
        return new Case(m, n, k, Values(random, m * k), Values(random, n * k), Values(random, m * n), accumulate);
    }

    private static float[] Values(Random random, int length)
    {
        float[] values = new float[length];
        for (int t = 0; t < length; t++) values[t] = random.Next(8) == 0 ? 0f : (float)(2 * random.NextDouble() - 1);
        return values;
    }

    private static float A(Form form, Case c, int i, int p) => form == Form.AtB ? c.A[p * c.M + i] : c.A[i * c.K + p];

    private static float B(Form form, Case c, int p, int j) => form == Form.ABt ? c.B[j * c.K + p] : c.B[p * c.N + j];

    /// <summary>
    /// Null when every element of <paramref name="actual"/> is within the forward error bound of its exact value,
    /// else where and by how much it is not.
    /// </summary>
    /// <remarks>
    /// Exact value: e = c₀ + Σ_p a_p·b_p in double (the products of floats are exact in double; the double sum's own
    /// error, ≤ K·2⁻⁵³·Σ|a_p b_p|, is a millionth of the float bound and covered by the 1e-6 slack below).
    /// The float32 result sums K products and, when accumulating, c₀: a sum of at most K + 1 terms, in any order, with or
    /// without fused multiply-adds, so |computed − e| ≤ γ_(K+1)·(|c₀| + Σ_p |a_p b_p|), γ_n = n·u / (1 − n·u), u = 2⁻²⁴
    /// (for an overwrite c₀ = 0 and the bound is the dot product's γ_K·Σ|a_p b_p| plus slack). With K = 0 the bound is
    /// 0: an overwrite must produce exact zeros and an accumulate must leave C unchanged.
    /// </remarks>
    private static string? CheckAgainstExact(Form form, Case c, float[] actual, bool accumulate)
    {
        const double u = 1.0 / (1 << 24);
        double gamma = (c.K + 1) * u / (1 - (c.K + 1) * u);
        for (int i = 0; i < c.M; i++)
            for (int j = 0; j < c.N; j++)
            {
                double c0 = accumulate ? c.C[i * c.N + j] : 0.0;
                double exact = c0, magnitude = Math.Abs(c0);
                for (int p = 0; p < c.K; p++)
                {
                    double product = (double)A(form, c, i, p) * B(form, c, p, j);
                    exact += product;
                    magnitude += Math.Abs(product);
                }
                double error = Math.Abs(actual[i * c.N + j] - exact);
                double bound = gamma * magnitude * (1 + 1e-6);
                if (!(error <= bound))
                    return $"{c}: C[{i},{j}] = {actual[i * c.N + j]:R}, exact {exact:R}, error {error:E3} > bound {bound:E3}";
            }
        return null;
    }

    private static string? RunABt(MultiplyTransposedFn f, Case c)
    {
        float[] result = (float[])c.C.Clone();
        f(c.A, c.M, c.K, c.B, c.N, result, c.Accumulate);
        return CheckAgainstExact(Form.ABt, c, result, c.Accumulate);
    }

    private static string? RunAB(MultiplyAccumulateFn f, Case c)
    {
        float[] result = (float[])c.C.Clone();
        f(c.A, c.M, c.K, c.B, c.N, result);
        return CheckAgainstExact(Form.AB, c, result, accumulate: true);
    }

    private static string? RunAtB(TransposedMultiplyAccumulateFn f, Case c)
    {
        float[] result = (float[])c.C.Clone();
        f(c.A, c.K, c.M, c.B, c.N, result);
        return CheckAgainstExact(Form.AtB, c, result, accumulate: true);
    }

    private static Property Holds(Func<Case, string?> check) =>
        Prop.ForAll(Cases(), c =>
        {
            string? failure = check(c);
            return (failure is null).Label(failure ?? "");
        });

    // C = A·Bᵀ (and C += A·Bᵀ)

    [Property(MaxTest = 150)]
    public Property Public_multiply_transposed_matches_the_exact_product() => Holds(c => RunABt(Gemm.MultiplyTransposed, c));

    [Property(MaxTest = 150)]
    public Property Vector_multiply_transposed_matches_the_exact_product() => Holds(c => RunABt(Gemm.Simd.MultiplyTransposed, c));

    [Property(MaxTest = 100)]
    public Property Scalar_multiply_transposed_matches_the_exact_product() => Holds(c => RunABt(Gemm.Scalar.MultiplyTransposed, c));

    // C += A·B

    [Property(MaxTest = 150)]
    public Property Public_multiply_accumulate_matches_the_exact_product() => Holds(c => RunAB(Gemm.MultiplyAccumulate, c));

    [Property(MaxTest = 150)]
    public Property Vector_multiply_accumulate_matches_the_exact_product() => Holds(c => RunAB(Gemm.Simd.MultiplyAccumulate, c));

    [Property(MaxTest = 100)]
    public Property Scalar_multiply_accumulate_matches_the_exact_product() => Holds(c => RunAB(Gemm.Scalar.MultiplyAccumulate, c));

    // C += Aᵀ·B

    [Property(MaxTest = 150)]
    public Property Public_transposed_multiply_accumulate_matches_the_exact_product() => Holds(c => RunAtB(Gemm.TransposedMultiplyAccumulate, c));

    [Property(MaxTest = 150)]
    public Property Vector_transposed_multiply_accumulate_matches_the_exact_product() => Holds(c => RunAtB(Gemm.Simd.TransposedMultiplyAccumulate, c));

    [Property(MaxTest = 100)]
    public Property Scalar_transposed_multiply_accumulate_matches_the_exact_product() => Holds(c => RunAtB(Gemm.Scalar.TransposedMultiplyAccumulate, c));

    /// <summary>
    /// Shapes beyond the property range: M past the row block (128), K past the depth block (256) and, for A·Bᵀ, N past
    /// the rows of B walked per block (48·1024 / K), odd sizes everywhere, and N or K below one vector.
    /// </summary>
    public static TheoryData<int, int, int> LargerShapes => new()
    {
        { 200, 515, 67 },
        { 1027, 3, 25 },
        { 37, 130, 600 },
        { 5, 17, 1 },
        { 130, 9, 3 },
        { 1, 384, 128 },
        { 64, 40, 257 },
    };

    [Theory]
    [MemberData(nameof(LargerShapes))]
    public void Larger_shapes_match_the_exact_product(int m, int n, int k)
    {
        foreach (bool accumulate in new[] { false, true })
        {
            var c = MakeCase(m, n, k, seed: m * 7919 + n * 31 + k, accumulate);
            Assert.Null(RunABt(Gemm.MultiplyTransposed, c));
            Assert.Null(RunABt(Gemm.Simd.MultiplyTransposed, c));
            Assert.Null(RunABt(Gemm.Scalar.MultiplyTransposed, c));
        }
        var d = MakeCase(m, n, k, seed: m + n + k, accumulate: true);
        Assert.Null(RunAB(Gemm.MultiplyAccumulate, d));
        Assert.Null(RunAB(Gemm.Simd.MultiplyAccumulate, d));
        Assert.Null(RunAB(Gemm.Scalar.MultiplyAccumulate, d));
        Assert.Null(RunAtB(Gemm.TransposedMultiplyAccumulate, d));
        Assert.Null(RunAtB(Gemm.Simd.TransposedMultiplyAccumulate, d));
        Assert.Null(RunAtB(Gemm.Scalar.TransposedMultiplyAccumulate, d));
    }

    [Fact]
    public void Zero_sizes_leave_or_clear_the_output_as_defined()
    {
        // K = 0: the product is empty, so an overwrite gives zeros and an accumulate changes nothing.
        float[] c = [1, 2, 3, 4, 5, 6];
        Gemm.MultiplyTransposed([], 2, 0, [], 3, c, accumulate: true);
        Assert.Equal([1f, 2, 3, 4, 5, 6], c);
        Gemm.MultiplyAccumulate([], 2, 0, [], 3, c);
        Gemm.TransposedMultiplyAccumulate([], 0, 2, [], 3, c);
        Assert.Equal([1f, 2, 3, 4, 5, 6], c);
        Gemm.MultiplyTransposed([], 2, 0, [], 3, c, accumulate: false);
        Assert.Equal(new float[6], c);
        // M = 0 or N = 0: there is no output at all.
        Gemm.MultiplyTransposed([], 0, 5, new float[15], 3, [], accumulate: false);
        Gemm.MultiplyTransposed(new float[10], 2, 5, [], 0, [], accumulate: false);
        Gemm.MultiplyAccumulate([], 0, 5, new float[15], 3, []);
        Gemm.MultiplyAccumulate(new float[10], 2, 5, [], 0, []);
        Gemm.TransposedMultiplyAccumulate([], 5, 0, new float[15], 3, []);
        Gemm.TransposedMultiplyAccumulate(new float[10], 5, 2, [], 0, []);
    }

    [Fact]
    public void An_infinity_in_the_overlapped_depth_lanes_stays_infinite()
    {
        // K = 11: at 8 lanes the last vector covers 3..10 and at 4 lanes 7..10, so index 7 is summed by a full vector
        // and then masked out of the overlapping one; masking only one factor would turn 0·∞ into NaN there.
        const int m = 2, n = 5, k = 11;
        float[] a = Enumerable.Repeat(1f, m * k).ToArray();
        float[] b = Enumerable.Repeat(0.5f, n * k).ToArray();
        b[2 * k + 7] = float.PositiveInfinity;
        float[] c = new float[m * n];
        Gemm.Simd.MultiplyTransposed(a, m, k, b, n, c, accumulate: false);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(j == 2 ? float.PositiveInfinity : 5.5f, c[i * n + j]);
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_the_argument_named_and_nothing_changes()
    {
        float[] a = new float[6], b = new float[12], c = [1, 2, 3, 4, 5, 6, 7, 8];
        // MultiplyTransposed: a 2×3, b 4×3, c 2×4.
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposed(new float[5], 2, 3, b, 4, c, false)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposed(a, 2, 3, new float[11], 4, c, false)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposed(a, 2, 3, b, 4, new float[9], false)).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyTransposed(a, -2, 3, b, 4, c, false)).ParamName);
        // MultiplyAccumulate: a 2×3, b 3×4, c 2×4.
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.MultiplyAccumulate(new float[7], 2, 3, b, 4, c)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.MultiplyAccumulate(a, 2, 3, new float[13], 4, c)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.MultiplyAccumulate(a, 2, 3, b, 4, new float[7])).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyAccumulate(a, 2, -3, b, 4, c)).ParamName);
        // TransposedMultiplyAccumulate: a 3×2, b 3×4, c 2×4.
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.TransposedMultiplyAccumulate(new float[4], 3, 2, b, 4, c)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.TransposedMultiplyAccumulate(a, 3, 2, new float[8], 4, c)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.TransposedMultiplyAccumulate(a, 3, 2, b, 4, [])).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.TransposedMultiplyAccumulate(a, 3, 2, b, -4, c)).ParamName);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8], c);
    }

    [Fact]
    public void Calls_do_not_allocate()
    {
        // Shapes that take every path: row, column and depth tails, several depth blocks, and N, K below one vector.
        (int M, int N, int K)[] shapes = [(37, 45, 300), (130, 19, 7), (3, 5, 2), (64, 384, 128)];
        var buffers = shapes.Select(s => (s, a: new float[s.M * s.K], b: new float[s.N * s.K], c: new float[s.M * s.N])).ToArray();
        void RunAll()
        {
            foreach (var ((m, n, k), a, b, c) in buffers)
            {
                Gemm.MultiplyTransposed(a, m, k, b, n, c, accumulate: false);
                Gemm.MultiplyTransposed(a, m, k, b, n, c, accumulate: true);
                Gemm.MultiplyAccumulate(a, m, k, b, n, c);
                Gemm.TransposedMultiplyAccumulate(a, k, m, b, n, c);
                Gemm.Simd.MultiplyTransposed(a, m, k, b, n, c, accumulate: true);
                Gemm.Simd.MultiplyAccumulate(a, m, k, b, n, c);
                Gemm.Simd.TransposedMultiplyAccumulate(a, k, m, b, n, c);
            }
        }
        RunAll();
        Assert.Equal(0, SimdRnn.Tests.Support.Allocations.Of(RunAll, 3));
        _ = Vector<float>.Count;
    }
}
