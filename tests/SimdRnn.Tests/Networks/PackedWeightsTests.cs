using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;
using SimdRnn.Networks;
using SimdRnn.Training;

namespace SimdRnn.Tests.Networks;

/// <summary>
/// The packed weights the engines run on: <see cref="PackedMatrix"/> holds exactly the master weights (and their
/// transpose where a path made it), aligned; <see cref="MatrixProducts"/> routes every row count to a correct product;
/// networks build transposed copies only where a multi-row product uses them; a trainer's copies follow its updates.
/// </summary>
public class PackedWeightsTests
{
    private static float[] Values(int n, int seed)
    {
        var random = new Random(seed);
        var values = new float[n];
        for (int k = 0; k < n; k++) values[k] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>The address of the first element (the spans are over pinned arrays, so it does not move).</summary>
    private static long Address(ReadOnlySpan<float> span) =>
        (long)Unsafe.ByteOffset(ref Unsafe.NullRef<float>(), ref MemoryMarshal.GetReference(span));

    private static Arbitrary<(int Rows, int Cols, int Seed)> Shapes() =>
        (from rows in Gen.Choose(1, 67) from cols in Gen.Choose(1, 67) from seed in Gen.Choose(0, 1000) select (rows, cols, seed)).ToArbitrary();

    [Property(MaxTest = 200)]
    public Property A_float32_matrix_holds_the_master_and_its_transpose_aligned() =>
        Prop.ForAll(Shapes(), c =>
        {
            var (rows, cols, seed) = c;
            float[] master = Values(rows * cols, seed);
            var w = PackedMatrix.FromFloat32(master, rows, cols);

            Assert.Equal(WeightFormat.Float32, w.Format);
            Assert.Equal((rows, cols), (w.Rows, w.Cols));
            Assert.True(w.RowScales.IsEmpty);
            Assert.Equal(master, w.Data.ToArray()); // the same bits: float equality on copies of finite values
            Assert.Equal(0, Address(w.Data) % 64);
            Assert.False(w.HasTransposed); // made only when a path asks for it

            ReadOnlySpan<float> t = w.Transposed;
            Assert.True(w.HasTransposed);
            Assert.Equal(rows * cols, t.Length);
            Assert.Equal(0, Address(t) % 64);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                    Assert.Equal(master[i * cols + j], t[j * rows + i]);
            Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(t), ref MemoryMarshal.GetReference(w.Transposed))); // made once
        });

    [Property(MaxTest = 100)]
    public Property Refresh_rewrites_the_elements_and_the_transpose_in_place() =>
        Prop.ForAll(Shapes(), c =>
        {
            var (rows, cols, seed) = c;
            var w = PackedMatrix.FromFloat32(Values(rows * cols, seed), rows, cols);
            long data = Address(w.Data), transposed = Address(w.Transposed), panels = Address(w.Panels(4));
            float[] next = Values(rows * cols, seed + 1);
            w.Refresh(next);
            Assert.Equal(next, w.Data.ToArray());
            Assert.Equal((data, transposed, panels), (Address(w.Data), Address(w.Transposed), Address(w.Panels(4))));
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                    Assert.Equal(next[i * cols + j], w.Transposed[j * rows + i]);
            // The panels made before the update follow it; a width not used before gets none.
            float[] expected = new float[Gemm.PanelLength(4, cols, rows)];
            Gemm.BuildPanels(4, w.Transposed, cols, rows, expected);
            Assert.True(w.Panels(4).SequenceEqual(expected));
            Assert.False(w.HasPanels(8));
        });

    [Fact]
    public void Concurrent_first_users_all_see_one_transpose()
    {
        float[] master = Values(37 * 29, 5);
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var w = PackedMatrix.FromFloat32(master, 37, 29);
            var addresses = new long[4];
            Parallel.For(0, addresses.Length, k => addresses[k] = Address(w.Transposed));
            Assert.All(addresses, a => Assert.Equal(Address(w.Transposed), a));
        }
    }

    [Fact]
    public void Empty_matrices_are_allowed_and_a_wrong_length_is_refused()
    {
        var w = PackedMatrix.FromFloat32(ReadOnlySpan<float>.Empty, 0, 5);
        Assert.True(w.Data.IsEmpty);
        Assert.True(w.Transposed.IsEmpty);
        Assert.Throws<ArgumentException>(() => PackedMatrix.FromFloat32(new float[5], 2, 3));
    }

    // Y = (accumulate ? Y₀ : 0) + X·Wᵀ against a double-precision reference: each element within the float32 dot-product
    // bound γ_(K+1)·(|Y₀| + Σ|x·w|), γ_n ≈ n·2⁻²⁴ (fused or not, any summation order), doubled for slack.
    [Property(MaxTest = 150)]
    public Property Products_route_every_row_count_correctly() =>
        Prop.ForAll(Shapes(), Gen.Choose(0, 4).ToArbitrary(), Gen.Elements(false, true).ToArbitrary(), (c, rows, accumulate) =>
        {
            var (n, k, seed) = c;
            float[] master = Values(n * k, seed), x = Values(rows * k, seed + 7), y0 = Values(rows * n, seed + 9);
            var w = PackedMatrix.FromFloat32(master, n, k);

            float[] y = (float[])y0.Clone();
            MatrixProducts.Multiply(w, x, rows, y, accumulate);
            Check(y, rows, n, k, (i, j, p) => (double)x[i * k + p] * master[j * k + p], accumulate ? y0 : null);
            Assert.Equal(rows > 1, w.HasTransposed); // one row runs GEMV over W; more rows the broadcast GEMM over Wᵀ

            // A block of rows [first, first + count) of W.
            int first = n / 3, count = n - first;
            float[] yb = (float[])y0.AsSpan(0, rows * count).ToArray().Clone();
            float[] yb0 = (float[])yb.Clone();
            MatrixProducts.MultiplyRows(w, first, count, x, rows, yb, accumulate);
            Check(yb, rows, count, k, (i, j, p) => (double)x[i * k + p] * master[(first + j) * k + p], accumulate ? yb0 : null);
            // More rows: the block's columns of Wᵀ on the same kernel, so the bits of the whole product's columns.
            if (rows > 1 && !accumulate)
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < count; j++)
                        Assert.Equal(BitConverter.SingleToInt32Bits(y[i * n + first + j]), BitConverter.SingleToInt32Bits(yb[i * count + j]));
        });

    // Snake order: a sequence's one-row products read a W_hh larger than half of L2 from its last rows to its first on
    // every other step (MatrixProducts.MultiplyOneRow), so that the rows read last are still in L2. Every row must keep
    // the bits of ascending order in every weight format: the blocks are whole row groups of each kernel (64 rows from
    // the first row; bf16: whole panels). Blocks of W starting near its top (first row 0..40), rows up to 300 (half the
    // cases span more than one 64-row block, with a partial one), columns 1..67 (tails of every width); the int8×int16
    // kernel with the library's block and with blocks of 4 and 8.
    [Property(MaxTest = 120)]
    public Property Descending_rows_give_the_bits_of_ascending_rows() =>
        Prop.ForAll(DescendingCases(), Gen.Choose(0, 3).ToArbitrary(), (c, kind) =>
        {
            var (n, k, first, count, seed) = c;
            float[] master = Values(n * k, seed), x = Values(k, seed + 3), y0 = Values(count, seed + 5);
            float[] up = (float[])y0.Clone(), down = (float[])y0.Clone();
            if (kind < 3)
            {
                var w = PackedMatrix.From((WeightFormat)kind, master, n, k);
                MatrixProducts.MultiplyOneRow(w, first, count, x, up);
                MatrixProducts.MultiplyOneRow(w, first, count, x, down, descending: true);
                AssertSameBits(up, down, $"{(WeightFormat)kind} {c}");
                return;
            }
            var q = PackedMatrix.From(WeightFormat.Int8, master, n, k).WithQuantizedInputs();
            Gemv.MultiplyAccumulateInt8QuantizedInputUnchecked(q, first, count, x, 1, up);
            foreach (int block in new[] { MatrixProducts.DescendingBlockRows, 4, 8 })
            {
                down = (float[])y0.Clone();
                Gemv.MultiplyAccumulateInt8QuantizedInputUnchecked(q, first, count, x, 1, down, descendingBlockRows: block);
                AssertSameBits(up, down, $"int8-int16, blocks of {block}, {c}");
            }
        });

    /// <summary>W [n × k] and a block of its rows [first, first + count) starting within its first 41 rows.</summary>
    private static Arbitrary<(int N, int K, int First, int Count, int Seed)> DescendingCases() =>
        (from n in Gen.Choose(1, 300)
         from k in Gen.Choose(1, 67)
         from first in Gen.Choose(0, Math.Min(n - 1, 40))
         from count in Gen.Choose(1, n - first)
         from seed in Gen.Choose(0, 1000)
         select (n, k, first, count, seed)).ToArbitrary();

    // The router (MatrixProducts.Multiply / MultiplyRows with descending) in every format, whole products and a block of
    // rows that starts inside W (a GRU's n gate), over overwritten and accumulated outputs; more than one input row
    // ignores the flag. 259 rows: four whole 64-row blocks and a partial one, a bf16 panel boundary at 128 at 512 bits.
    [Fact]
    public void The_router_gives_the_same_bits_in_either_order()
    {
        const int n = 259, k = 61, first = 86, count = 173;
        float[] master = Values(n * k, 11), x = Values(2 * k, 12), y0 = Values(2 * n, 13);
        foreach (var w in new[]
                 {
                     PackedMatrix.FromFloat32(master, n, k), PackedMatrix.From(WeightFormat.BFloat16, master, n, k),
                     PackedMatrix.From(WeightFormat.Int8, master, n, k), PackedMatrix.From(WeightFormat.Int8, master, n, k).WithQuantizedInputs(),
                 })
        {
            string what = $"{w.Format} quantizing {w.QuantizesInputs}";
            foreach (bool accumulate in new[] { false, true })
            {
                for (int rows = 1; rows <= 2; rows++)
                {
                    float[] up = (float[])y0.Clone(), down = (float[])y0.Clone();
                    MatrixProducts.Multiply(w, x, rows, up, accumulate);
                    MatrixProducts.Multiply(w, x, rows, down, accumulate, descending: true);
                    AssertSameBits(up, down, $"{what}, whole, {rows} row(s), accumulate {accumulate}");

                    up = (float[])y0.Clone();
                    down = (float[])y0.Clone();
                    MatrixProducts.MultiplyRows(w, first, count, x, rows, up, accumulate);
                    MatrixProducts.MultiplyRows(w, first, count, x, rows, down, accumulate, descending: true);
                    AssertSameBits(up, down, $"{what}, rows [{first}, {first + count}), {rows} row(s), accumulate {accumulate}");
                }
            }
        }
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: row {i}: {expected[i]:R} ascending, {actual[i]:R} descending");
    }

    // A block of W's rows times several input rows runs on the broadcast GEMM over a block of Wᵀ's columns (B's rows
    // ldb = W.Rows floats apart): every element must get the bits the whole product gives it. Shapes that reach every
    // part of the kernel with ldb ≠ n: more than 8 input rows (the packed sliver, the wide tiles), K past one depth
    // block (128 at 512 bits), blocks at the start, the middle and the end of W.
    [Property(MaxTest = 150)]
    public Property Blocks_of_rows_give_the_bits_of_the_whole_product() =>
        Prop.ForAll(BlockCases(maxRows: 90, maxCols: 300, maxInputRows: 140), c =>
            {
                var (n, k, m, first, count, seed) = c;
                BlockHasTheBitsOfTheWhole(PackedMatrix.FromFloat32(Values(n * k, seed), n, k), Values(m * k, seed + 1), m, first, count, c.ToString());
            });

    /// <summary>
    /// W [n × k] (n up to <paramref name="maxRows"/>, k up to <paramref name="maxCols"/>), m input rows (2 up to
    /// <paramref name="maxInputRows"/>) and a block of W's rows [first, first + count).
    /// </summary>
    private static Arbitrary<(int N, int K, int M, int First, int Count, int Seed)> BlockCases(int maxRows, int maxCols, int maxInputRows) =>
        (from n in Gen.Choose(1, maxRows)
         from k in Gen.Choose(1, maxCols)
         from m in Gen.Choose(2, maxInputRows)
         from first in Gen.Choose(0, n - 1)
         from count in Gen.Choose(1, n - first)
         from seed in Gen.Choose(0, 1000)
         select (n, k, m, first, count, seed)).ToArbitrary();

    /// <summary>
    /// Asserts that X·W[first .. first + count)ᵀ (<see cref="MatrixProducts.MultiplyRows"/>) has, element for element,
    /// the bits of those columns of X·Wᵀ (<see cref="MatrixProducts.Multiply"/>), one input row on the GEMM kernel too;
    /// returns the whole product.
    /// </summary>
    private static float[] BlockHasTheBitsOfTheWhole(PackedMatrix w, float[] x, int m, int first, int count, string what)
    {
        int n = w.Rows;
        var whole = new float[m * n];
        MatrixProducts.Multiply(w, x, m, whole, accumulate: false, oneRowOnGemm: true);
        var block = new float[m * count];
        MatrixProducts.MultiplyRows(w, first, count, x, m, block, accumulate: false, oneRowOnGemm: true);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < count; j++)
                Assert.True(BitConverter.SingleToInt32Bits(whole[i * n + first + j]) == BitConverter.SingleToInt32Bits(block[i * count + j]),
                    $"{what} at [{i}, {j}]: {block[i * count + j]:R} vs {whole[i * n + first + j]:R}");
        return whole;
    }

    // Blocks of a W with 1500 rows and K = 100: B = Wᵀ is 150 000 floats with rows 1500 floats apart, so the broadcast
    // kernel prefetches the next sliver (Kernel.PrefetchFloats, PageFloats) inside a block of columns; and one input
    // row runs the one-row kernel over the same strided block. Blocks at the start, the middle and the end.
    [Theory]
    [InlineData(20, 0, 64)]
    [InlineData(20, 700, 101)]
    [InlineData(20, 1436, 64)]
    [InlineData(1, 0, 1500)]
    [InlineData(1, 1433, 67)]
    [InlineData(1, 700, 301)]
    public void Blocks_of_a_wide_matrix_give_the_bits_of_the_whole_product(int m, int first, int count)
    {
        const int n = 1500, k = 100;
        float[] master = Values(n * k, 3), x = Values(m * k, 4);
        float[] whole = BlockHasTheBitsOfTheWhole(PackedMatrix.FromFloat32(master, n, k), x, m, first, count, $"m = {m}, block {first} + {count}");
        Check(whole, m, n, k, (i, j, p) => (double)x[i * k + p] * master[j * k + p], null);
    }

    // oneRowOnGemm (a batch-parallel part of one stream): one input row, in any format, overwriting or accumulating,
    // for a block of W's rows, gets the bits that row gets among others on the GEMM kernel. The three routes: fp32 (and
    // an accumulating bf16 row) on the GEMM's one-row kernel; an overwriting bf16 row on the paired GEMV, which sums
    // each row from zero in column order by fused multiply-adds, the GEMM's chain; int8 on the one-row int8 kernel,
    // which forms each effective weight in registers as the fp32 copy holds it.
    [Property(MaxTest = 150)]
    public Property One_row_gets_the_bits_of_a_multi_row_product_in_every_format() =>
        Prop.ForAll(BlockCases(maxRows: 300, maxCols: 90, maxInputRows: 12),
            Formats(),
            Gen.Elements(false, true).ToArbitrary(), (c, format, accumulate) =>
            {
                var (n, k, m, first, count, seed) = c;
                float[] x = Values(m * k, seed + 1), initial = Values(m * count, seed + 2);
                var w = PackedMatrix.From(format, Values(n * k, seed), n, k);
                float[] all = (float[])initial.Clone();
                MatrixProducts.MultiplyRows(w, first, count, x, m, all, accumulate);
                for (int i = 0; i < m; i++)
                {
                    float[] one = initial.AsSpan(i * count, count).ToArray();
                    MatrixProducts.MultiplyRows(w, first, count, x.AsSpan(i * k, k), 1, one, accumulate, oneRowOnGemm: true);
                    Assert.True(one.AsSpan().SequenceEqual(all.AsSpan(i * count, count)), $"{c}, {format}, accumulate {accumulate}: row {i}");
                }
            });

    // Y = bias + X·Wᵀ (MatrixProducts.MultiplyFrom: the projection and the readout) in every format, 0..12 input rows, on
    // each route (GEMV, the GEMM with and without pre-packed slivers, one row on the GEMM): the bits of broadcasting the
    // bias into Y and accumulating (Y's old contents, here NaN, never read), and within the float32 bound of the exact
    // bias + Σ x·w over the effective weights.
    [Property(MaxTest = 150)]
    public Property Starting_from_a_bias_gives_the_bits_of_broadcasting_it_first() =>
        Prop.ForAll(BlockCases(maxRows: 90, maxCols: 90, maxInputRows: 12),
            Formats(),
            Gen.Elements((false, false), (true, false), (false, true), (true, true)).ToArbitrary(), (c, format, route) =>
            {
                var (n, k, m, _, _, seed) = c;
                m = seed % 13; // 0..12 input rows
                var (oneRowOnGemm, usePanels) = route;
                float[] x = Values(m * k, seed + 1), bias = Values(n, seed + 2);
                var w = PackedMatrix.From(format, Values(n * k, seed), n, k);
                float[] biases = new float[m * n];
                for (int i = 0; i < m; i++) bias.CopyTo(biases, i * n);
                float[] expected = (float[])biases.Clone();
                MatrixProducts.Multiply(w, x, m, expected, accumulate: true, oneRowOnGemm, usePanels);
                float[] actual = new float[m * n];
                Array.Fill(actual, float.NaN);
                MatrixProducts.MultiplyFrom(w, bias, x, m, actual, oneRowOnGemm, usePanels);
                Assert.True(actual.AsSpan().SequenceEqual(expected), $"{c}, {format}, rows {m}, oneRowOnGemm {oneRowOnGemm}, panels {usePanels}");
                float[] effective = w.Data.ToArray(); // the effective weights (fp32, or the reduced formats' dequantized copy)
                Check(actual, m, n, k, (i, j, p) => (double)x[i * k + p] * effective[j * k + p], biases);
            });

    // An overwriting product (accumulate = false) starts from zeros and never reads Y: over NaN it gives the bits it
    // gives over zeros, for blocks of rows, pre-packed slivers and matrices wider than the shared zero row's first size
    // (1024), in every format.
    [Property(MaxTest = 60)]
    public Property Overwriting_products_never_read_the_old_output() =>
        Prop.ForAll(BlockCases(maxRows: 1300, maxCols: 40, maxInputRows: 12),
            Formats(),
            Gen.Elements(false, true).ToArbitrary(), (c, format, usePanels) =>
            {
                var (n, k, m, first, count, seed) = c;
                float[] x = Values(m * k, seed + 1);
                var w = PackedMatrix.From(format, Values(n * k, seed), n, k);
                foreach (var (f, cnt) in new[] { (0, n), (first, count) })
                {
                    float[] overZeros = new float[m * cnt], overNaN = new float[m * cnt];
                    Array.Fill(overNaN, float.NaN);
                    MatrixProducts.MultiplyRows(w, f, cnt, x, m, overZeros, accumulate: false, usePanels: usePanels);
                    MatrixProducts.MultiplyRows(w, f, cnt, x, m, overNaN, accumulate: false, usePanels: usePanels);
                    Assert.True(overNaN.AsSpan().SequenceEqual(overZeros), $"{c}, {format}, block {f} + {cnt}, panels {usePanels}");
                    Assert.DoesNotContain(overNaN, float.IsNaN);
                }
            });

    /// <summary>The three weight formats.</summary>
    private static Arbitrary<WeightFormat> Formats() => Gen.Elements(WeightFormat.Float32, WeightFormat.BFloat16, WeightFormat.Int8).ToArbitrary();

    private static void Check(float[] actual, int rows, int n, int k, Func<int, int, int, double> term, float[]? initial)
    {
        double gamma = 2 * (k + 1) * Math.Pow(2, -24);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = initial is null ? 0 : initial[i * n + j], magnitude = Math.Abs(sum);
                for (int p = 0; p < k; p++)
                {
                    sum += term(i, j, p);
                    magnitude += Math.Abs(term(i, j, p));
                }
                Assert.True(Math.Abs(actual[i * n + j] - sum) <= gamma * magnitude, $"[{i}, {j}]: {actual[i * n + j]:R} vs {sum:R}");
            }
    }

    [Theory]
    [InlineData(CellKind.Rnn, true)]
    [InlineData(CellKind.Gru, true)]
    [InlineData(CellKind.Gru, false)]
    [InlineData(CellKind.Lstm, true)]
    public void Transposed_copies_are_made_only_where_a_multi_row_product_uses_them(CellKind cell, bool linearBeforeReset)
    {
        var spec = new RecurrentSpec(cell, 5, 7) { Layers = 2, ReadoutSize = 3, LinearBeforeReset = linearBeforeReset };
        var network = RecurrentNetwork.CreateRandom(spec, seed: 1);
        var weights = network.Weights;
        var matrices = new[] { weights.Layer(0, 0).Input, weights.Layer(0, 0).Recurrent, weights.Layer(1, 0).Input, weights.Layer(1, 0).Recurrent, weights.Readout!.Weights };

        // One stream, stepped: every product has one row, so GEMV over W and no transposed copy.
        var single = network.CreateState(batch: 1);
        single.Step(Values(5, 2), new float[3]);
        Assert.All(matrices, m => Assert.False(m.HasTransposed));

        // One stream's sequence: the input projections run over Wᵀ (T rows at a time) but, B = 1, without pre-packed
        // panels, which would cost a copy of W_ih for nothing measurable.
        using (var session = network.CreateSession()) session.Run(Values(6 * 5, 4), 1, new float[6 * 3]);
        static int Lanes(PackedMatrix m) => VectorWidth.Lanes(VectorWidth.For(m.Rows)); // the width a product with W runs at
        Assert.True(weights.Layer(0, 0).Input.HasTransposed);
        Assert.All(matrices, m => Assert.False(m.HasPanels(Lanes(m))));

        // Four streams: every X·Wᵀ has four rows and runs over Wᵀ, including a GRU's recurrent products in the reset
        // form (linear_before_reset = 0), which take blocks of W's rows: blocks of Wᵀ's columns.
        var batch = network.CreateState(batch: 4);
        batch.Step(Values(4 * 5, 3), new float[4 * 3]);
        Assert.True(weights.Layer(0, 0).Input.HasTransposed);
        Assert.True(weights.Readout.Weights.HasTransposed);
        Assert.True(weights.Layer(0, 0).Recurrent.HasTransposed);
        // Whole products of a batch read Wᵀ's pre-packed slivers; the reset form's blocks of rows do not.
        Assert.True(weights.Layer(0, 0).Input.HasPanels(Lanes(weights.Layer(0, 0).Input)));
        Assert.True(weights.Readout.Weights.HasPanels(Lanes(weights.Readout.Weights)));
        Assert.Equal(linearBeforeReset || cell != CellKind.Gru, weights.Layer(0, 0).Recurrent.HasPanels(Lanes(weights.Layer(0, 0).Recurrent)));
    }

    [Theory]
    [InlineData(CellKind.Rnn, false)]
    [InlineData(CellKind.Gru, true)]
    [InlineData(CellKind.Lstm, true)]
    public void A_trainer_runs_on_weights_that_follow_its_updates(CellKind cell, bool bidirectional)
    {
        var spec = new RecurrentSpec(cell, 4, 6) { Bidirectional = bidirectional, ReadoutSize = 2, ReadoutActivation = ReadoutActivation.Sigmoid };
        using var trainer = new RecurrentTrainer(RecurrentNetwork.CreateRandom(spec, seed: 3), new TrainerOptions { Optimizer = OptimizerKind.Adam, LearningRate = 0.05f });
        const int steps = 5, batch = 3;
        float[] x = Values(steps * batch * 4, 4), targets = Values(steps * batch * 2, 5).Select(v => v > 0 ? 1f : 0f).ToArray();
        for (int k = 0; k < 4; k++) Assert.True(trainer.TrainStep(x, batch, targets).Updated);

        // The trainer's forward pass after the updates gives the bits a fresh network of its weights gives.
        trainer.Forward(x, batch);
        float[] expected = new float[steps * batch * 2];
        using var session = trainer.ToNetwork().CreateSession();
        session.MaxDegreeOfParallelism = 1;
        session.Run(x, batch, expected);
        Assert.Equal(expected, trainer.Output.ToArray());
    }
}
