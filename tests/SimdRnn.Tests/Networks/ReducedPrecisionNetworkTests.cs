using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Networks;
using SimdRnn.Reference;
using SimdRnn.Tests.Support;
using SimdRnn.Training;

namespace SimdRnn.Tests.Networks;

/// <summary>
/// Networks on bf16 and int8 weights (issue 11) against the naive double-precision reference run on the
/// recipe-dequantized weights, computed here independently in double: every cell and GRU form, stacks, directions,
/// batches, readouts, in sequence and streaming mode; the recipes' edge cases at the network level; no allocation per step.
/// </summary>
public class ReducedPrecisionNetworkTests
{
    // Outputs and states: ‖error‖∞ ≤ 1e-5 · ‖expected‖∞ per tensor. The reference computes with exactly the effective
    // weights (the recipe's values, in double), so what is left is float32 arithmetic, as for fp32 networks
    // (RecurrentNetworkTests): 2^-24 per operation over dot products of ≤ 2·67 terms, the activations' 3e-7 bound,
    // ≤ 5 steps and ≤ 2 layers give a few 1e-7 of the O(1) values; the int8 paths add one float32 rounding of q·s
    // (GEMM over the dequantized copy) or of the scale applied after the dot product (GEMV), 2^-24 relative each.
    private const double Tolerance = 1e-5;

    public static readonly TheoryData<WeightPrecision> ReducedFormats = new() { WeightPrecision.BFloat16, WeightPrecision.Int8 };

    // ------------------------------------------------------------------ the recipes, independently, in double

    /// <summary>The nearest bfloat16 to <paramref name="v"/>, ties to even, by its spacing: 2^(e−7) for |v| in [2^e, 2^(e+1)), 2^-133 below 2^-126.</summary>
    public static double BFloat16Value(float v)
    {
        if (float.IsNaN(v) || float.IsInfinity(v) || v == 0) return v;
        double d = v;
        int exponent = Math.Max(Math.ILogB(d), -126);
        double spacing = Math.ScaleB(1.0, exponent - 7);
        double rounded = Math.Round(d / spacing, MidpointRounding.ToEven) * spacing; // exact: a power-of-two division
        double largest = (2 - Math.ScaleB(1.0, -7)) * Math.ScaleB(1.0, 127);
        return Math.Abs(rounded) > largest ? (rounded > 0 ? double.PositiveInfinity : double.NegativeInfinity) : rounded;
    }

    /// <summary>Row r's effective int8 weights q_rj·s_r with s_r = float32(max_j |w_rj| / 127) and q_rj = round-half-to-even(w_rj / s_r) in [−127, 127].</summary>
    public static double[] Int8Values(ReadOnlySpan<float> w, int rows, int cols, out double[] scales)
    {
        var effective = new double[rows * cols];
        scales = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double max = 0;
            for (int j = 0; j < cols; j++) max = Math.Max(max, Math.Abs((double)w[r * cols + j]));
            // The float32 quotient: the double quotient rounded to float32 is the correctly rounded one (53 ≥ 2·24 + 2).
            double s = (float)(max / 127.0);
            scales[r] = s;
            if (s == 0) continue;
            for (int j = 0; j < cols; j++)
            {
                double q = Math.Clamp(Math.Round(w[r * cols + j] / s, MidpointRounding.ToEven), -127, 127);
                effective[r * cols + j] = q * s; // exact in double: 7 bits times 24 bits
            }
        }
        return effective;
    }

    /// <summary>The reference network: the master's parameters in double with every weight_ih/weight_hh matrix replaced by its effective values.</summary>
    internal static NaiveRecurrent Reference(RecurrentSpec spec, ReadOnlySpan<float> master, WeightPrecision precision,
        Func<double[], double[]>? productInput = null)
    {
        var parameters = new Dictionary<string, double[]>();
        foreach (var slot in RecurrentNetwork.TensorsOf(spec))
        {
            ReadOnlySpan<float> values = master.Slice(slot.Offset, slot.Length);
            bool reduced = slot.Name.StartsWith("weight_ih_l", StringComparison.Ordinal) || slot.Name.StartsWith("weight_hh_l", StringComparison.Ordinal);
            double[] converted;
            if (!reduced || precision == WeightPrecision.Float32)
                converted = Array.ConvertAll(values.ToArray(), v => (double)v);
            else if (precision == WeightPrecision.BFloat16)
                converted = Array.ConvertAll(values.ToArray(), BFloat16Value);
            else
                converted = Int8Values(values, slot.Shape[0], slot.Shape[1], out _);
            parameters[slot.Name] = converted;
        }
        return new NaiveRecurrent(RecurrentCase.ToNaive(spec), parameters) { ProductInput = productInput };
    }

    /// <summary>
    /// The magnitude the readout's float32 dot products are conditioned by: max over outputs o of
    /// |b_o| + max|y|·Σ_j |W_oj| (y the layer output). A readout that cancels to a value far below its terms (seen: a
    /// 1-output linear readout of 2.8e-4 from terms of order 1e-3) can only be computed to about u·Σ|terms| in
    /// float32, so "1e-5 of the largest output magnitude" is taken of this magnitude where it is larger (the same bound
    /// as the GEMV/GEMM forward error γ_n·Σ|a·b|, not a looser tolerance).
    /// </summary>
    internal static double ReadoutScale(RecurrentNetwork master, double[]? layerOutput)
    {
        var spec = master.Spec;
        if (spec.ReadoutSize == 0 || layerOutput is null) return 0;
        double maxY = layerOutput.Length == 0 ? 0 : layerOutput.Max(Math.Abs);
        ReadOnlySpan<float> w = master.Tensor("head.weight"), b = master.Tensor("head.bias");
        int width = spec.LayerOutputSize;
        double scale = 0;
        for (int o = 0; o < spec.ReadoutSize; o++)
        {
            double terms = Math.Abs(b[o]);
            for (int j = 0; j < width; j++) terms += Math.Abs(w[o * width + j]) * maxY;
            scale = Math.Max(scale, terms);
        }
        return scale;
    }

    /// <summary>
    /// ‖actual − expected‖∞ ≤ 1e-5·max(‖expected‖∞, <paramref name="minimumScale"/>) + <paramref name="allowance"/> (an
    /// extra bound a test derives, e.g. for roundings the reference cannot reproduce; 0 here).
    /// </summary>
    internal static void Close(ReadOnlySpan<float> actual, double[]? expected, string what, object c, double minimumScale = 0, double allowance = 0)
    {
        Assert.NotNull(expected);
        Assert.Equal(expected.Length, actual.Length);
        double scale = minimumScale, worst = 0;
        for (int k = 0; k < expected.Length; k++)
        {
            scale = Math.Max(scale, Math.Abs(expected[k]));
            worst = Math.Max(worst, Math.Abs(actual[k] - expected[k]));
        }
        Assert.True(worst <= Tolerance * scale + allowance, $"{c}: {what}: max error {worst:E3} > {Tolerance:E0} × {scale:G4} + {allowance:E2}");
    }

    private static Arbitrary<WeightPrecision> Formats() => Gen.Elements(WeightPrecision.BFloat16, WeightPrecision.Int8).ToArbitrary();

    // ------------------------------------------------------------------ against the reference

    [Property(MaxTest = 150)]
    public Property Sequences_match_the_reference_on_the_effective_weights() =>
        Prop.ForAll(RecurrentCase.Arbitrary(maxSize: 67, maxSteps: 5, maxBatch: 3), Formats(), (c, precision) =>
        {
            var master = c.Network();
            var network = master.WithWeightFormat(precision);
            var spec = c.Spec;
            var output = new float[c.T * c.B * spec.OutputSize];
            var layerOutput = spec.ReadoutSize > 0 ? new float[c.T * c.B * spec.LayerOutputSize] : [];
            var hN = new float[c.StateLength];
            var cN = spec.HasCellState ? new float[c.StateLength] : [];
            using var session = network.CreateSession();
            session.Run(c.X, c.B, output, c.H0, c.C0, hN, cN, layerOutput);

            var expected = Reference(spec, master.Parameters, precision)
                .Forward(RecurrentCase.AsDouble(c.X) ?? [], c.T, c.B, RecurrentCase.AsDouble(c.H0), RecurrentCase.AsDouble(c.C0));
            if (c.T * c.B == 0) return;
            string what = $"{c} {precision}";
            Close(spec.ReadoutSize > 0 ? layerOutput : output, expected.Y, "y", what);
            if (spec.ReadoutSize > 0) Close(output, expected.Out, "out", what, ReadoutScale(master, expected.Y));
            Close(hN, expected.HN, "h_n", what);
            if (spec.HasCellState) Close(cN, expected.CN, "c_n", what);
        });

    [Property(MaxTest = 100)]
    public Property Streaming_steps_match_the_reference_on_the_effective_weights() =>
        Prop.ForAll(RecurrentCase.Arbitrary(maxSize: 67, maxSteps: 5, maxBatch: 3, unidirectional: true), Formats(), (c0, precision) =>
        {
            var c = c0 with { Spec = c0.Spec with { BatchFirst = false } };
            var spec = c.Spec;
            var master = c.Network();
            var network = master.WithWeightFormat(precision);
            var state = network.CreateState(c.B);
            if (c.WithInitialState) state.Restore([.. c.H0, .. c.C0]);
            var expected = Reference(spec, master.Parameters, precision)
                .Forward(RecurrentCase.AsDouble(c.X) ?? [], c.T, c.B, RecurrentCase.AsDouble(c.H0), RecurrentCase.AsDouble(c.C0));
            double[] whole = (spec.ReadoutSize > 0 ? expected.Out : expected.Y)!;
            int perStep = c.B * spec.InputSize, outStep = c.B * spec.OutputSize;
            var step = new float[outStep];
            for (int t = 0; t < c.T; t++)
            {
                state.Step(c.X.AsSpan(t * perStep, perStep), step);
                Close(step, whole[(t * outStep)..((t + 1) * outStep)], $"step {t}", $"{c} {precision}", ReadoutScale(master, expected.Y));
            }
            if (c.T > 0) Close(state.Hidden, expected.HN, "h", $"{c} {precision}");
        });

    [Theory]
    [MemberData(nameof(ReducedFormats))]
    public void The_fp32_master_is_shared_and_unchanged(WeightPrecision precision)
    {
        var spec = new RecurrentSpec(CellKind.Gru, 6, 9) { Layers = 2, Bidirectional = true, ReadoutSize = 2 };
        var fp32 = RecurrentNetwork.CreateRandom(spec, seed: 4);
        var reduced = fp32.WithWeightFormat(precision);
        Assert.Equal(WeightPrecision.Float32, fp32.WeightPrecision);
        Assert.Equal(precision, reduced.WeightPrecision);
        Assert.Same(reduced, reduced.WithWeightFormat(precision));
        Assert.Equal(WeightPrecision.Float32, reduced.WithWeightFormat(WeightPrecision.Float32).WeightPrecision);
        Assert.True(fp32.Parameters == reduced.Parameters); // the same memory
        Assert.Equal(fp32.Tensor("weight_hh_l1_reverse").ToArray(), reduced.Tensor("weight_hh_l1_reverse").ToArray());

        // Every weight_ih/weight_hh matrix (incl. reverse) in the format; the readout float32.
        var weights = reduced.Weights;
        for (int l = 0; l < 2; l++)
            for (int d = 0; d < 2; d++)
            {
                Assert.Equal(precision == WeightPrecision.BFloat16 ? WeightFormat.BFloat16 : WeightFormat.Int8, weights.Layer(l, d).Input.Format);
                Assert.Equal(precision == WeightPrecision.BFloat16 ? WeightFormat.BFloat16 : WeightFormat.Int8, weights.Layer(l, d).Recurrent.Format);
            }
        Assert.Equal(WeightFormat.Float32, weights.Readout!.Weights.Format);
        Assert.Throws<ArgumentOutOfRangeException>(() => fp32.WithWeightFormat((WeightPrecision)7));
    }

    [Theory]
    [MemberData(nameof(ReducedFormats))]
    [InlineData(WeightPrecision.Int8WithInt16Activations)]
    public void A_trainer_of_a_reduced_network_trains_the_fp32_master(WeightPrecision precision)
    {
        var spec = new RecurrentSpec(CellKind.Lstm, 3, 5) { ReadoutSize = 1, ReadoutActivation = ReadoutActivation.Sigmoid };
        var fp32 = RecurrentNetwork.CreateRandom(spec, seed: 8);
        float[] x = Enumerable.Range(0, 4 * 2 * 3).Select(k => MathF.Sin(k)).ToArray();
        float[] target = Enumerable.Range(0, 4 * 2).Select(k => (float)(k % 2)).ToArray();
        using var a = new RecurrentTrainer(fp32);
        using var b = new RecurrentTrainer(fp32.WithWeightFormat(precision));
        for (int k = 0; k < 3; k++)
        {
            a.TrainStep(x, 2, target);
            b.TrainStep(x, 2, target);
        }
        Assert.Equal(a.ToNetwork().Parameters.ToArray(), b.ToNetwork().Parameters.ToArray());
        Assert.Equal(WeightPrecision.Float32, b.ToNetwork().WeightPrecision);
    }

    // ------------------------------------------------------------------ recipe edge cases at the network level

    /// <summary>A GRU whose weight_hh_l0 gets <paramref name="edit"/> applied to its master values.</summary>
    private static RecurrentNetwork Edited(Action<float[], int> edit, CellKind cell = CellKind.Gru)
    {
        var spec = new RecurrentSpec(cell, 5, 11) { ReadoutSize = 2 };
        var parameters = RecurrentNetwork.CreateRandom(spec, seed: 21).Parameters.ToArray();
        var slot = RecurrentNetwork.TensorsOf(spec).Single(s => s.Name == "weight_hh_l0");
        var w = parameters.AsSpan(slot.Offset, slot.Length).ToArray();
        edit(w, spec.HiddenSize);
        w.CopyTo(parameters, slot.Offset);
        return RecurrentNetwork.FromParameters(spec, parameters);
    }

    private static void MatchesReference(RecurrentNetwork master, WeightPrecision precision)
    {
        var network = master.WithWeightFormat(precision);
        var spec = master.Spec;
        const int steps = 6;
        foreach (int batch in new[] { 1, 3 })
        {
            float[] x = Enumerable.Range(0, steps * batch * spec.InputSize).Select(k => MathF.Cos(0.7f * k)).ToArray();
            var output = new float[steps * batch * spec.OutputSize];
            using var session = network.CreateSession();
            session.Run(x, batch, output);
            var expected = Reference(spec, master.Parameters, precision).Forward(Array.ConvertAll(x, v => (double)v), steps, batch);
            Close(output, expected.Out, "out", $"{precision} B={batch}");
        }
    }

    [Theory]
    [MemberData(nameof(ReducedFormats))]
    public void A_zero_row_stays_zero(WeightPrecision precision)
    {
        const int row = 4;
        var master = Edited((w, h) => w.AsSpan(row * h, h).Clear());
        var matrix = master.WithWeightFormat(precision).Weights.Layer(0, 0).Recurrent;
        for (int j = 0; j < matrix.Cols; j++) Assert.Equal(0f, matrix.Effective(row, j));
        if (precision == WeightPrecision.Int8)
        {
            Assert.Equal(0f, matrix.RowScales[row]);
            Assert.All(matrix.Int8Data.Slice(row * matrix.Cols, matrix.Cols).ToArray(), q => Assert.Equal(0, q));
        }
        MatchesReference(master, precision);
    }

    [Theory]
    [MemberData(nameof(ReducedFormats))]
    public void A_row_with_one_huge_element_follows_the_recipe(WeightPrecision precision)
    {
        // One element 500× the others' bound 1/√11: its row's int8 scale is 150.3/127 ≈ 1.18, and every other element
        // of the row, below half a step (0.59), becomes 0; bf16 rounds each element on its own.
        const int row = 7, col = 3;
        var master = Edited((w, h) => w[row * h + col] = 150.3f);
        var matrix = master.WithWeightFormat(precision).Weights.Layer(0, 0).Recurrent;
        if (precision == WeightPrecision.Int8)
        {
            Assert.Equal(150.3f / 127, matrix.RowScales[row]);
            for (int j = 0; j < matrix.Cols; j++) Assert.Equal(j == col ? 127 : 0, matrix.Int8Data[row * matrix.Cols + j]);
        }
        else
        {
            Assert.Equal(150.0f, matrix.Effective(row, col)); // 150.3 between the bfloat16 neighbours 150 and 151
        }
        MatchesReference(master, precision);
    }

    [Fact]
    public void Ties_subnormals_and_signed_zeros_are_rounded_as_the_recipe_says()
    {
        // A row of values that land on the recipes' edges, checked element by element against the recipes above.
        float[] edge =
        [
            1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8), -(1f + MathF.Pow(2, -8)), 0f, -0f, float.Epsilon, -float.Epsilon,
            MathF.Pow(2, -130) * 1.5f, float.MaxValue, 1e-40f, 0.5f, 63.5f / 127, 0.75f,
        ];
        int h = 11, cols = h;
        var master = Edited((w, hidden) =>
        {
            edge.AsSpan(0, cols).CopyTo(w.AsSpan(2 * hidden, cols)); // row 2: bf16's ties, subnormals, ±0, the largest float
            // row 5: int8 ties (s = 127/127 = 1, so w/s = w): ±0.5 → 0, 1.5 → 2, 2.5 → 2, 3.5 → 4, 126.5 → 126
            float[] ties = [127f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 3.5f, 0f, 126.5f, -126.5f, 1f];
            ties.CopyTo(w.AsSpan(5 * hidden, cols));
        });
        var bf16 = master.WithWeightFormat(WeightPrecision.BFloat16).Weights.Layer(0, 0).Recurrent;
        ReadOnlySpan<float> row2 = master.Tensor("weight_hh_l0").Slice(2 * cols, cols);
        for (int j = 0; j < cols; j++)
        {
            double expected = BFloat16Value(row2[j]);
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(bf16.Effective(2, j)));
        }
        Assert.Equal(float.PositiveInfinity, bf16.Effective(2, 8)); // float.MaxValue rounds above the largest bfloat16

        var int8 = master.WithWeightFormat(WeightPrecision.Int8).Weights.Layer(0, 0).Recurrent;
        var w = master.Tensor("weight_hh_l0");
        double[] effective = Int8Values(w, 3 * h, h, out double[] scales);
        for (int r = 0; r < 3 * h; r++)
        {
            if (r == 2) continue; // float.MaxValue: fine for int8 (finite), checked below
            Assert.Equal((float)scales[r], int8.RowScales[r]);
            for (int j = 0; j < cols; j++) Assert.Equal((float)effective[r * cols + j], int8.Effective(r, j));
        }
        Assert.Equal((float)scales[2], int8.RowScales[2]);
        Assert.Equal(1f, int8.RowScales[5]);
        Assert.Equal(new sbyte[] { 127, 0, 2, 2, 0, -2, 4, 0, 126, -126, 1 }, int8.Int8Data.Slice(5 * cols, cols).ToArray());
        Assert.Equal(127, int8.Int8Data[2 * cols + 8]);
    }

    [Fact]
    public void Bf16_propagates_nan_and_infinity_to_the_outputs()
    {
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity })
        {
            var master = Edited((w, h) => w[3 * h + 2] = bad, CellKind.Lstm);
            var network = master.WithWeightFormat(WeightPrecision.BFloat16);
            var spec = network.Spec;
            float[] x = Enumerable.Range(0, 3 * spec.InputSize).Select(k => MathF.Sin(k + 1)).ToArray();
            var output = new float[3 * spec.OutputSize];
            using (var session = network.CreateSession()) session.Run(x, 1, output);
            // Step 0 starts from h = 0 (W_hh·0 is finite only without the bad weight: ∞·0 = NaN in IEEE); from step 1 on
            // the bad weight meets a nonzero h and the outputs are NaN. fp32 does the same.
            using (var session = master.CreateSession())
            {
                var fp32 = new float[output.Length];
                session.Run(x, 1, fp32);
                for (int k = 0; k < output.Length; k++) Assert.Equal(float.IsNaN(fp32[k]), float.IsNaN(output[k]));
            }
            Assert.True(float.IsNaN(output[^1]), $"{bad}: the last output is {output[^1]}");

            var state = network.CreateState();
            var y = new float[spec.OutputSize];
            for (int t = 0; t < 3; t++) state.Step(x.AsSpan(t * spec.InputSize, spec.InputSize), y);
            Assert.True(float.IsNaN(y[0]));
        }
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Int8_refuses_non_finite_weights_naming_the_tensor_row_and_column(float bad)
    {
        var spec = new RecurrentSpec(CellKind.Rnn, 4, 6) { Layers = 2, Bidirectional = true };
        var parameters = RecurrentNetwork.CreateRandom(spec, seed: 2).Parameters.ToArray();
        var slot = RecurrentNetwork.TensorsOf(spec).Single(s => s.Name == "weight_ih_l1_reverse");
        parameters[slot.Offset + 3 * slot.Shape[1] + 10] = bad; // row 3, column 10
        var network = RecurrentNetwork.FromParameters(spec, parameters);
        var e = Assert.Throws<ArgumentException>(() => network.WithWeightFormat(WeightPrecision.Int8));
        Assert.Contains("weight_ih_l1_reverse", e.Message, StringComparison.Ordinal);
        Assert.Contains("row 3, column 10", e.Message, StringComparison.Ordinal);
        Assert.Equal("precision", e.ParamName);
        Assert.NotNull(network.WithWeightFormat(WeightPrecision.BFloat16)); // bf16 takes it (propagates)
    }

    // ------------------------------------------------------------------ allocation

    [Theory]
    [InlineData(WeightPrecision.Float32)]
    [InlineData(WeightPrecision.BFloat16)]
    [InlineData(WeightPrecision.Int8)]
    [InlineData(WeightPrecision.Int8WithInt16Activations)]
    public void Steps_and_sequences_allocate_nothing(WeightPrecision precision)
    {
        foreach (var (cell, lbr) in new[] { (CellKind.Rnn, true), (CellKind.Gru, true), (CellKind.Gru, false), (CellKind.Lstm, true) })
        {
            var spec = new RecurrentSpec(cell, 19, 37) { Layers = 2, ReadoutSize = 3, LinearBeforeReset = lbr };
            var network = RecurrentNetwork.CreateRandom(spec, seed: 5).WithWeightFormat(precision);
            foreach (int batch in new[] { 1, 3 })
            {
                var state = network.CreateState(batch);
                float[] x = Enumerable.Range(0, batch * 19).Select(k => MathF.Sin(k)).ToArray(), y = new float[batch * 3];
                Assert.Equal(0, Allocations.Of(() => state.Step(x, y)));

                using var session = network.CreateSession();
                session.MaxDegreeOfParallelism = 1;
                float[] xs = Enumerable.Range(0, 7 * batch * 19).Select(k => MathF.Cos(k)).ToArray(), ys = new float[7 * batch * 3];
                Assert.Equal(0, Allocations.Of(() => session.Run(xs, batch, ys), repetitions: 10));
            }
        }
    }
}
