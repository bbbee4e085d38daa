using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Kernels;

/// <summary>
/// The three GEMM forms — the public entry points and the kernel at every width this machine has (512 bits,
/// Vector&lt;T&gt;, 128 bits, and the one-lane scalar twin) — against a double-precision naive product written here,
/// over random shapes 0..67 in each dimension (across vector-width multiples and tails), larger shapes that cross the
/// cache blocks, zero sizes, bad arguments, buffer offsets and allocations.
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

    /// <summary>The widths a form runs at for this case: every supported width whose lanes fit K (A·Bᵀ) or N (the broadcast forms).</summary>
    private static IEnumerable<Width> WidthsFor(Form form, Case c) => Widths.Fitting(form == Form.ABt ? c.K : c.N);

    /// <summary>Runs one form at <paramref name="width"/> (null: the public entry point) on a copy of C.</summary>
    private static float[] Run(Form form, Width? width, Case c, bool accumulate)
    {
        float[] result = (float[])c.C.Clone();
        switch (form, width)
        {
            case (Form.ABt, null): Gemm.MultiplyTransposed(c.A, c.M, c.K, c.B, c.N, result, accumulate); break;
            case (Form.ABt, Width w): Gemm.MultiplyTransposedAt(w, c.A, c.M, c.K, c.B, c.N, result, accumulate); break;
            case (Form.AB, null): Gemm.MultiplyAccumulate(c.A, c.M, c.K, c.B, c.N, result); break;
            case (Form.AB, Width w): Gemm.MultiplyAccumulateAt(w, c.A, c.M, c.K, c.B, c.N, result); break;
            case (Form.AtB, null): Gemm.TransposedMultiplyAccumulate(c.A, c.K, c.M, c.B, c.N, result); break;
            case (Form.AtB, Width w): Gemm.TransposedMultiplyAccumulateAt(w, c.A, c.K, c.M, c.B, c.N, result); break;
        }
        return result;
    }

    /// <summary>The first failure of the public entry point or of the kernel at any fitting width, or null.</summary>
    private static string? CheckAllWidths(Form form, Case c)
    {
        bool accumulate = form != Form.ABt || c.Accumulate;
        string? failure = CheckAgainstExact(form, c, Run(form, null, c, accumulate), accumulate);
        if (failure is not null) return $"{form} public: {failure}";
        foreach (var width in WidthsFor(form, c))
        {
            failure = CheckAgainstExact(form, c, Run(form, width, c, accumulate), accumulate);
            if (failure is not null) return $"{form} at {width}: {failure}";
        }
        return null;
    }

    private static Property Holds(Form form) =>
        Prop.ForAll(Cases(), c =>
        {
            string? failure = CheckAllWidths(form, c);
            return (failure is null).Label(failure ?? "");
        });

    [Property(MaxTest = 200)]
    public Property Multiply_transposed_matches_the_exact_product_at_every_width() => Holds(Form.ABt);

    [Property(MaxTest = 200)]
    public Property Multiply_accumulate_matches_the_exact_product_at_every_width() => Holds(Form.AB);

    [Property(MaxTest = 200)]
    public Property Transposed_multiply_accumulate_matches_the_exact_product_at_every_width() => Holds(Form.AtB);

    /// <summary>
    /// Shapes beyond the property range, "M, N, K": M around the row block (128), K around the depth block (256; 128 at
    /// 512 bits) and, for A·Bᵀ, N past the rows of B walked per block (48·1024 / K); N around multiples of 4, 8 and 16
    /// lanes (±1) and below one vector; odd sizes everywhere. 37, 1030, 130: B (K·N = 133 900 floats, rows 1030 floats
    /// apart) past the size and the row distance from which the broadcast forms prefetch the next sliver
    /// (Kernel.PrefetchFloats, PageFloats), past one depth block, with a column tail.
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
        { 127, 33, 255 },
        { 129, 31, 256 },
        { 128, 49, 129 },
        { 13, 65, 127 },
        { 9, 47, 128 },
        { 11, 63, 513 },
        { 70, 64, 64 },
        { 37, 1030, 130 },
    };

    [Theory]
    [MemberData(nameof(LargerShapes))]
    public void Larger_shapes_match_the_exact_product_at_every_width(int m, int n, int k)
    {
        foreach (bool accumulate in new[] { false, true })
            Assert.Null(CheckAllWidths(Form.ABt, MakeCase(m, n, k, seed: m * 7919 + n * 31 + k, accumulate)));
        var d = MakeCase(m, n, k, seed: m + n + k, accumulate: true);
        Assert.Null(CheckAllWidths(Form.AB, d));
        Assert.Null(CheckAllWidths(Form.AtB, d));
    }

    /// <summary>
    /// Every element of the broadcast forms is a chain of fused multiply-adds over p in increasing order at every width,
    /// tile and block, so all widths give the same bits (this is a property of the kernels' summation order, checked
    /// here on top of the exact-product checks above).
    /// </summary>
    [Theory]
    [InlineData(37, 45, 300)]
    [InlineData(130, 67, 19)]
    [InlineData(9, 16, 5)]
    [InlineData(64, 384, 128)]
    [InlineData(21, 1030, 130)]
    public void Broadcast_forms_give_the_same_bits_at_every_width(int m, int n, int k)
    {
        var c = MakeCase(m, n, k, seed: 77, accumulate: true);
        foreach (var form in new[] { Form.AB, Form.AtB })
        {
            float[] scalar = Run(form, Width.Scalar, c, accumulate: true);
            foreach (var width in WidthsFor(form, c))
                Assert.True(scalar.AsSpan().SequenceEqual(Run(form, width, c, accumulate: true)), $"{form} at {width} differs from the scalar twin");
        }
    }

    /// <summary>Accumulating cases of 2..<paramref name="maxRows"/> rows, 1..<paramref name="maxCols"/> columns and the depths given.</summary>
    private static Arbitrary<Case> AccumulatingCases(int maxRows, int maxCols, int minDepth, int maxDepth) =>
        (from m in Gen.Choose(2, maxRows)
         from n in Gen.Choose(1, maxCols)
         from k in Gen.Choose(minDepth, maxDepth)
         from seed in Gen.Choose(0, int.MaxValue)
         select MakeCase(m, n, k, seed, accumulate: true)).ToArbitrary();

    /// <summary>
    /// B's full slivers pre-packed (<see cref="Gemm.BuildPanels"/>) give the bits of the kernel that copies them per row
    /// block, at every width: the same tiles over the same values. K up to 300 crosses the depth blocks (128 at 512 bits,
    /// 256 below) and N up to 200 leaves column tails, which read B itself.
    /// </summary>
    [Property(MaxTest = 60)]
    public Property Prepacked_slivers_give_the_bits_of_the_copying_kernel() =>
        Prop.ForAll(AccumulatingCases(maxRows: 40, maxCols: 200, minDepth: 1, maxDepth: 300), c =>
        {
            foreach (var width in WidthsFor(Form.AB, c))
            {
                float[] copying = Run(Form.AB, width, c, accumulate: true), prepacked = (float[])c.C.Clone();
                float[] panels = new float[Gemm.PanelLength(VectorWidth.Lanes(width), c.K, c.N)];
                Gemm.BuildPanels(VectorWidth.Lanes(width), c.B, c.K, c.N, panels);
                Gemm.MultiplyAccumulatePanelsAt(width, c.A, c.M, c.K, c.B, panels, c.N, prepacked);
                if (!prepacked.AsSpan().SequenceEqual(copying)) return false.Label($"{c} at {width}: the pre-packed product differs");
            }
            return true.Label("");
        });

    /// <summary>
    /// A start row (C = S + A·B with S a bias or zeros in every row, C's old contents never read: here NaN) gives the bits
    /// of broadcasting S into C and accumulating, at every width, over a dense B, a block of columns of a wider B
    /// (rows ldb apart) and pre-packed slivers: only where each chain of fused multiply-adds begins changes. M from 1
    /// (the one-row kernel), K up to 300 (past the depth blocks, where only the first block starts from S), N up to 200
    /// (vector and masked column tails, whose kept lanes are reloaded from C).
    /// </summary>
    [Property(MaxTest = 60)]
    public Property A_start_row_gives_the_bits_of_broadcasting_it_first() =>
        Prop.ForAll(AccumulatingCases(maxRows: 40, maxCols: 200, minDepth: 1, maxDepth: 300), c =>
        {
            foreach (var x in new[] { c, c with { M = 1, A = c.A.AsSpan(0, c.K).ToArray() } })
            {
                float[] start = x.C.AsSpan(0, x.N).ToArray();
                if (x.N > 2) start[1] = 0f; // a zero among the values (a start of zeros is the overwrite)
                int extra = 5, ldb = x.N + extra;
                float[] wide = new float[x.K * ldb];
                for (int p = 0; p < x.K; p++) x.B.AsSpan(p * x.N, x.N).CopyTo(wide.AsSpan(p * ldb + 3, x.N));
                foreach (var width in WidthsFor(Form.AB, x))
                {
                    float[] expected = new float[x.M * x.N];
                    for (int i = 0; i < x.M; i++) start.CopyTo(expected, i * x.N);
                    Gemm.MultiplyAccumulateAt(width, x.A, x.M, x.K, x.B, x.N, expected);

                    float[] dense = Filled(x.M * x.N, float.NaN), strided = Filled(x.M * x.N, float.NaN), packed = Filled(x.M * x.N, float.NaN);
                    Gemm.MultiplyAccumulateColumnsAt(width, x.A, x.M, x.K, x.B, x.N, 0, x.N, dense, start);
                    Gemm.MultiplyAccumulateColumnsAt(width, x.A, x.M, x.K, wide, ldb, 3, x.N, strided, start);
                    float[] panels = new float[Gemm.PanelLength(VectorWidth.Lanes(width), x.K, x.N)];
                    Gemm.BuildPanels(VectorWidth.Lanes(width), x.B, x.K, x.N, panels);
                    Gemm.MultiplyAccumulatePanelsAt(width, x.A, x.M, x.K, x.B, panels, x.N, packed, start);
                    if (!dense.AsSpan().SequenceEqual(expected)) return false.Label($"{x} at {width}: dense B differs");
                    if (!strided.AsSpan().SequenceEqual(expected)) return false.Label($"{x} at {width}: strided B differs");
                    if (!packed.AsSpan().SequenceEqual(expected)) return false.Label($"{x} at {width}: pre-packed B differs");
                }
            }
            return true.Label("");
        });

    private static float[] Filled(int length, float value)
    {
        float[] values = new float[length];
        Array.Fill(values, value);
        return values;
    }

    /// <summary>
    /// A row multiplied alone (the one-row kernel) gets the bits it gets among other rows (the row tiles), for both
    /// broadcast forms at every width: every element is the same chain of fused multiply-adds over p. N up to 300
    /// crosses the one-row kernel's passes of 8 vectors at every width, with vector and masked tails.
    /// </summary>
    [Property(MaxTest = 100)]
    public Property One_row_alone_gets_the_bits_it_gets_among_other_rows() =>
        Prop.ForAll(AccumulatingCases(maxRows: 20, maxCols: 300, minDepth: 0, maxDepth: 70), c =>
        {
            foreach (var form in new[] { Form.AB, Form.AtB })
                foreach (var width in WidthsFor(form, c))
                {
                    float[] all = Run(form, width, c, accumulate: true);
                    for (int i = 0; i < c.M; i++)
                    {
                        // Row i alone: A(i, ·) as a 1 × K (A·B) or K × 1 (Aᵀ·B) factor, C's row i as its start.
                        float[] a = new float[c.K];
                        for (int p = 0; p < c.K; p++) a[p] = A(form, c, i, p);
                        var alone = c with { M = 1, A = a, C = c.C.AsSpan(i * c.N, c.N).ToArray() };
                        float[] row = Run(form, width, alone, accumulate: true);
                        if (!row.AsSpan().SequenceEqual(all.AsSpan(i * c.N, c.N)))
                            return false.Label($"{form} at {width}, {c}: row {i} alone differs");
                    }
                }
            return true.Label("");
        });

    /// <summary>
    /// The operands and the output copied to offsets 1..17 floats into larger buffers (every alignment of every width)
    /// give the same bits as at offset 0, for every form and width: nothing in the kernels depends on the address.
    /// </summary>
    [Theory]
    [InlineData(13, 37, 41)]
    [InlineData(70, 50, 300)]
    [InlineData(3, 17, 16)]
    public void Results_are_the_same_bits_at_every_buffer_offset(int m, int n, int k)
    {
        var c = MakeCase(m, n, k, seed: 4242, accumulate: true);
        foreach (var form in new[] { Form.ABt, Form.AB, Form.AtB })
            foreach (var width in WidthsFor(form, c))
            {
                float[] reference = Run(form, width, c, accumulate: true);
                for (int offset = 1; offset <= 17; offset++)
                {
                    float[] a = new float[c.A.Length + offset], b = new float[c.B.Length + offset], result = new float[c.C.Length + offset];
                    c.A.CopyTo(a, offset);
                    c.B.CopyTo(b, offset);
                    c.C.CopyTo(result, offset);
                    Span<float> cs = result.AsSpan(offset);
                    ReadOnlySpan<float> asp = a.AsSpan(offset), bs = b.AsSpan(offset);
                    switch (form)
                    {
                        case Form.ABt: Gemm.MultiplyTransposedAt(width, asp, m, k, bs, n, cs, accumulate: true); break;
                        case Form.AB: Gemm.MultiplyAccumulateAt(width, asp, m, k, bs, n, cs); break;
                        default: Gemm.TransposedMultiplyAccumulateAt(width, asp, k, m, bs, n, cs); break;
                    }
                    Assert.True(reference.AsSpan().SequenceEqual(cs), $"{form} at {width}, offset {offset}");
                }
            }
    }

    /// <summary>The row-tile choice covers every row count, and wastes at most 3 rows (a partly empty four-row tile).</summary>
    [Theory]
    [InlineData(6)]
    [InlineData(8)]
    public void Row_tiles_cover_every_row_count_with_little_waste(int wideRows)
    {
        for (int rows = 1; rows <= 128; rows++)
        {
            int computed = 0;
            for (int left = rows; left > 0;)
            {
                int tile = Gemm.Kernel<ScalarFloat>.UseWideTile(left, wideRows) ? wideRows : 4;
                computed += tile;
                left -= tile;
            }
            Assert.InRange(computed - rows, 0, 3);
        }
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
        foreach (var width in Widths.Fitting(k))
        {
            float[] c = new float[m * n];
            Gemm.MultiplyTransposedAt(width, a, m, k, b, n, c, accumulate: false);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    Assert.Equal(j == 2 ? float.PositiveInfinity : 5.5f, c[i * n + j]);
        }
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
        // The widths are listed before measuring (enumerating Widths.Fitting itself allocates).
        var buffers = shapes.Select(s => (s, a: new float[s.M * s.K], b: new float[s.N * s.K], c: new float[s.M * s.N],
            kWidths: Widths.Fitting(s.K).ToArray(), nWidths: Widths.Fitting(s.N).ToArray())).ToArray();
        void RunAll()
        {
            foreach (var ((m, n, k), a, b, c, kWidths, nWidths) in buffers)
            {
                Gemm.MultiplyTransposed(a, m, k, b, n, c, accumulate: false);
                Gemm.MultiplyTransposed(a, m, k, b, n, c, accumulate: true);
                Gemm.MultiplyAccumulate(a, m, k, b, n, c);
                Gemm.TransposedMultiplyAccumulate(a, k, m, b, n, c);
                foreach (var width in kWidths)
                    Gemm.MultiplyTransposedAt(width, a, m, k, b, n, c, accumulate: true);
                foreach (var width in nWidths)
                {
                    Gemm.MultiplyAccumulateAt(width, a, m, k, b, n, c);
                    Gemm.TransposedMultiplyAccumulateAt(width, a, k, m, b, n, c);
                }
            }
        }
        RunAll();
        Assert.Equal(0, Allocations.Of(RunAll, 3));
    }
}
