using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Networks;
using SimdRnn.Tests.Kernels;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Networks;

/// <summary>
/// Networks in <see cref="WeightPrecision.Int8WithInt16Activations"/> against the naive double-precision reference on
/// the int8 effective weights with the recipe's quantization (<see cref="QuantizedInputGemvTests.QuantizeReference"/>)
/// applied to every vector that multiplies a weight matrix (layer inputs, states).
/// </summary>
/// <remarks>
/// <para>
/// The quantization rounds data-dependent values to integers, so the reference must quantize the same float32 numbers
/// the network does, or a value within float32 rounding of a half-integer may round the other way (an error of
/// |w|·s_x, up to 2^-15 of the vector's largest element: far above 1e-5 for small sizes). So every check starts from
/// values the network holds as float32: one time step from given x, h0 (and c0) — sequences of T = 1, every cell,
/// stack, direction, batch and readout — and streaming runs of up to 5 steps checked one step at a time from the state
/// the network itself reached. Where the reference quantizes the test's own float32 values, both sides round the same
/// numbers and the tolerance is the fp32 networks' 1e-5 of the largest expected magnitude.
/// </para>
/// <para>
/// Two vectors are formed inside a step, in float32 by the network and in double by the reference: the second layer's
/// input (the first layer's output) and, for the GRU without linear-before-reset, r ⊙ h. An element of such a vector
/// whose quotient by s_x lies within 0.1 of a half-integer may round either way: 0.1 quotient units are 3e-6 of the
/// vector's largest element, ten times the worst float32-against-double error measured on any fixture's outputs
/// (2.4e-7, docs/accuracy.md) and above the activations' 3e-7 plus these sizes' dot-product rounding. Such a flip
/// changes one row of the product by at most max|W|·s_x. The reference counts those elements per product; the largest Σ max|W|·s_x over any product, A, is
/// allowed at most 3 times in a state (tanh and relu pass a pre-activation error on with slope ≤ 1, the GRU ≤ 1.5, the
/// LSTM ≤ 1.5 + |c|/4 ≤ 3 for |c| ≤ 6, which five steps from |c0| ≤ 1 cannot exceed) and, through a readout, times its
/// largest row sum Σ_j |W_oj|. The GRU without linear-before-reset is checked with one layer only (its first layer's
/// error would pass through the second layer's weights as well).
/// </para>
/// </remarks>
public class QuantizedActivationNetworkTests
{
    private static void Close(ReadOnlySpan<float> actual, double[]? expected, string what, string c, double minimumScale = 0, double allowance = 0) =>
        ReducedPrecisionNetworkTests.Close(actual, expected, what, c, minimumScale, allowance);

    private const WeightPrecision Format = WeightPrecision.Int8WithInt16Activations;

    /// <summary>
    /// The recipe applied to a vector (its elements read as float32), recording the largest change of any row a
    /// rounding of a value the network may hold differently (not a float32 value) can make: A in the remarks.
    /// </summary>
    private sealed class ActivationQuantizer(double maxAbsWeight)
    {
        public double Allowance { get; private set; }

        public double[] Apply(double[] v)
        {
            var x = Array.ConvertAll(v, d => (float)d);
            var (a, scale) = QuantizedInputGemvTests.QuantizeReference(x);
            if (!float.IsNormal(scale)) return Array.ConvertAll(x, f => (double)f); // the int8 format's product
            var result = new double[v.Length];
            int ambiguous = 0;
            for (int j = 0; j < v.Length; j++)
            {
                result[j] = a[j] * (double)scale;
                double t = Math.Abs(v[j] / scale);
                if (v[j] != x[j] && Math.Abs(t - Math.Floor(t) - 0.5) < 0.1) ambiguous++;
            }
            Allowance = Math.Max(Allowance, ambiguous * maxAbsWeight * scale);
            return result;
        }
    }

    /// <summary>max |w| over every weight_ih / weight_hh matrix (an effective int8 weight |q·s_r| is at most its row's max |w|, up to s_r's rounding).</summary>
    private static double MaxAbsWeight(RecurrentNetwork network)
    {
        double max = 0;
        foreach (var slot in network.Tensors)
            if (slot.Name.StartsWith("weight_", StringComparison.Ordinal))
                foreach (float w in network.Tensor(slot.Name)) max = Math.Max(max, Math.Abs(w));
        return max * (1 + 1e-6);
    }

    /// <summary>The readout's largest row sum Σ_j |W_oj| (0 without a readout).</summary>
    private static double ReadoutRowSum(RecurrentNetwork network)
    {
        var spec = network.Spec;
        if (spec.ReadoutSize == 0) return 0;
        ReadOnlySpan<float> w = network.Tensor("head.weight");
        double max = 0;
        for (int o = 0; o < spec.ReadoutSize; o++)
        {
            double sum = 0;
            for (int j = 0; j < spec.LayerOutputSize; j++) sum += Math.Abs(w[o * spec.LayerOutputSize + j]);
            max = Math.Max(max, sum);
        }
        return max;
    }

    private static bool ResetBeforeProduct(RecurrentSpec spec) => spec.Cell == CellKind.Gru && !spec.LinearBeforeReset;

    [Property(MaxTest = 200)]
    public Property One_step_from_given_states_matches_the_recipe() =>
        Prop.ForAll(RecurrentCase.Arbitrary(maxSize: 67, maxSteps: 1, maxBatch: 3), c0 =>
        {
            // T = 1 from a random (non-zero) h0 and c0, so every W_hh product quantizes a state the test gave as float32.
            var c = c0 with { T = 1, WithInitialState = true };
            var spec = c.Spec;
            if (ResetBeforeProduct(spec) && spec.Layers > 1) return; // see the remarks
            var master = c.Network();
            var network = master.WithWeightFormat(Format);
            var output = new float[c.T * c.B * spec.OutputSize];
            var layerOutput = spec.ReadoutSize > 0 ? new float[c.T * c.B * spec.LayerOutputSize] : [];
            var hN = new float[c.StateLength];
            var cN = spec.HasCellState ? new float[c.StateLength] : [];
            using var session = network.CreateSession();
            session.Run(c.X, c.B, output, c.H0, c.C0, hN, cN, layerOutput);

            var quantizer = new ActivationQuantizer(MaxAbsWeight(master));
            var expected = ReducedPrecisionNetworkTests.Reference(spec, master.Parameters, Format, quantizer.Apply)
                .Forward(RecurrentCase.AsDouble(c.X) ?? [], c.T, c.B, RecurrentCase.AsDouble(c.H0), RecurrentCase.AsDouble(c.C0));
            double allowance = 3 * quantizer.Allowance;
            string what = $"{c} {Format}";
            Close(spec.ReadoutSize > 0 ? layerOutput : output, expected.Y, "y", what, allowance: allowance);
            if (spec.ReadoutSize > 0)
                Close(output, expected.Out, "out", what, ReducedPrecisionNetworkTests.ReadoutScale(master, expected.Y), ReadoutRowSum(master) * allowance);
            Close(hN, expected.HN, "h_n", what, allowance: allowance);
            if (spec.HasCellState) Close(cN, expected.CN, "c_n", what, allowance: 3 * allowance);
        });

    [Property(MaxTest = 100)]
    public Property Streaming_steps_match_the_recipe_from_the_state_each_step_starts_from() =>
        Prop.ForAll(RecurrentCase.Arbitrary(maxSize: 67, maxSteps: 5, maxBatch: 3, unidirectional: true), c0 =>
        {
            var c = c0 with { Spec = c0.Spec with { BatchFirst = false } };
            var spec = c.Spec;
            if (ResetBeforeProduct(spec) && spec.Layers > 1) return; // see the remarks
            var master = c.Network();
            var state = master.WithWeightFormat(Format).CreateState(c.B);
            if (c.WithInitialState) state.Restore([.. c.H0, .. c.C0]);
            int perStep = c.B * spec.InputSize, outStep = c.B * spec.OutputSize;
            var step = new float[outStep];
            for (int t = 0; t < c.T; t++)
            {
                double[] h = Array.ConvertAll(state.Hidden.ToArray(), v => (double)v);
                double[]? cell = spec.HasCellState ? Array.ConvertAll(state.Cell.ToArray(), v => (double)v) : null;
                var quantizer = new ActivationQuantizer(MaxAbsWeight(master));
                var expected = ReducedPrecisionNetworkTests.Reference(spec, master.Parameters, Format, quantizer.Apply)
                    .Forward(Array.ConvertAll(c.X[(t * perStep)..((t + 1) * perStep)], v => (double)v), 1, c.B, h, cell);
                state.Step(c.X.AsSpan(t * perStep, perStep), step);
                double allowance = 3 * quantizer.Allowance;
                string what = $"{c} step {t}";
                if (spec.ReadoutSize > 0)
                    Close(step, expected.Out, "out", what, ReducedPrecisionNetworkTests.ReadoutScale(master, expected.Y), ReadoutRowSum(master) * allowance);
                else
                    Close(step, expected.Y, "y", what, allowance: allowance);
                Close(state.Hidden, expected.HN, "h", what, allowance: allowance);
            }
        });

    [Fact]
    public void A_state_of_zeros_or_a_non_finite_state_takes_the_int8_products()
    {
        // h = 0 (the first step from a zero state) and x = 0: s_x = 0, so both products are the int8 format's (float) ones — the same bits.
        var spec = new RecurrentSpec(CellKind.Lstm, 7, 19);
        var master = RecurrentNetwork.CreateRandom(spec, seed: 8);
        var x = new float[7];
        float[] y = new float[19], yInt8 = new float[19];
        using (var s = master.WithWeightFormat(Format).CreateState()) s.Step(x, y);
        using (var s = master.WithWeightFormat(WeightPrecision.Int8).CreateState()) s.Step(x, yInt8);
        Assert.Equal(yInt8, y);

        // A NaN in the state propagates (no quantization of that vector), as in the int8 format.
        for (int j = 0; j < x.Length; j++) x[j] = 0.25f * j - 0.7f;
        using var state = master.WithWeightFormat(Format).CreateState();
        var snapshot = new float[state.SnapshotLength];
        snapshot[3] = float.NaN;
        state.Restore(snapshot);
        state.Step(x, y);
        Assert.Contains(y, float.IsNaN);
    }

    [Fact]
    public void Wide_inputs_whose_int16_copies_are_rented_allocate_nothing_in_steady_state()
    {
        // 4100 inputs: four rows' int16 copy (4 · 4128 values) exceeds the 32 KiB kept on the stack and is rented from
        // the shared pool, which keeps the array for the next call.
        var spec = new RecurrentSpec(CellKind.Gru, 4100, 8);
        var network = RecurrentNetwork.CreateRandom(spec, seed: 3).WithWeightFormat(Format);
        using var session = network.CreateSession();
        session.MaxDegreeOfParallelism = 1;
        float[] x = Enumerable.Range(0, 3 * 4 * 4100).Select(k => MathF.Sin(0.01f * k)).ToArray(), y = new float[3 * 4 * 8];
        Assert.Equal(0, Allocations.Of(() => session.Run(x, 4, y), repetitions: 10));
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Batches_quantize_each_stream_on_its_own()
    {
        // Three streams stepped together give each stream the bits it gets alone: each state row has its own s_x.
        var spec = new RecurrentSpec(CellKind.Gru, 11, 37);
        var network = RecurrentNetwork.CreateRandom(spec, seed: 2).WithWeightFormat(Format);
        var random = new Random(5);
        var h0 = Enumerable.Range(0, 3 * 37).Select(i => (float)(random.NextDouble() * (i / 37 + 1) - 0.5)).ToArray(); // different scales per row
        var x = Enumerable.Range(0, 3 * 11).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var together = new float[3 * 37];
        using (var state = network.CreateState(3))
        {
            state.Restore(h0);
            state.Step(x, together);
        }
        for (int b = 0; b < 3; b++)
        {
            var alone = new float[37];
            using var state = network.CreateState(1);
            state.Restore(h0.AsSpan(b * 37, 37));
            state.Step(x.AsSpan(b * 11, 11), alone);
            Assert.Equal(alone, together.AsSpan(b * 37, 37).ToArray());
        }
    }

    [Fact]
    public void Every_weight_matrix_quantizes_its_inputs()
    {
        var spec = new RecurrentSpec(CellKind.Lstm, 5, 8) { Layers = 2, Bidirectional = true };
        var network = RecurrentNetwork.CreateRandom(spec, seed: 1).WithWeightFormat(Format);
        Assert.Equal(Format, network.WeightPrecision);
        for (int l = 0; l < 2; l++)
            for (int d = 0; d < 2; d++)
            {
                var layer = network.Weights.Layer(l, d);
                Assert.Equal(WeightFormat.Int8, layer.Recurrent.Format);
                Assert.True(layer.Recurrent.QuantizesInputs);
                Assert.True(layer.Input.QuantizesInputs);
            }
        // The same stored weights as the int8 format.
        var int8 = RecurrentNetwork.CreateRandom(spec, seed: 1).WithWeightFormat(WeightPrecision.Int8);
        Assert.Equal(int8.Weights.Layer(1, 1).Recurrent.Int8Data.ToArray(), network.Weights.Layer(1, 1).Recurrent.Int8Data.ToArray());
        Assert.Equal(int8.Weights.RecurrentWeightBytes, network.Weights.RecurrentWeightBytes);
    }
}
