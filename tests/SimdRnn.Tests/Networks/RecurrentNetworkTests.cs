using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Networks;
using SimdRnn.Tests.Support;
using SimdRnn.Training;

namespace SimdRnn.Tests.Networks;

/// <summary>Every cell, stack, direction, bias form, readout and layout against the naive double-precision reference.</summary>
public class RecurrentNetworkTests
{
    // Outputs and states: |error| ≤ 1e-5·max(1, ‖expected‖∞) per tensor. Float32 rounding (2^-24 per operation), dot
    // products of up to 80 terms, the activations' 3e-7 bound, over ≤ 5 steps and ≤ 2 layers with U(±1/√H) weights
    // keep the error at a few 1e-7 of the O(1) values; relu layers can grow values a little above 1.
    private const double OutputTolerance = 1e-5;

    // Gradients: ‖error‖∞ ≤ 1e-4·‖expected‖∞ per tensor + 1e-5 of the model's largest gradient element (elements
    // and whole small tensors cancel to near zero, so element-wise relative error is not used; see BpttTests).
    private const double GradientTolerance = 1e-4;
    private const double ModelFloor = 1e-5;

    private static void Close(ReadOnlySpan<float> actual, double[]? expected, string what, RecurrentCase c)
    {
        Assert.NotNull(expected);
        Assert.Equal(expected.Length, actual.Length);
        double scale = 1, worst = 0;
        for (int k = 0; k < expected.Length; k++)
        {
            scale = Math.Max(scale, Math.Abs(expected[k]));
            worst = Math.Max(worst, Math.Abs(actual[k] - expected[k]));
        }
        Assert.True(worst <= OutputTolerance * scale, $"{c}: {what}: max error {worst:E3} > {OutputTolerance:E0} × {scale:G4}");
    }

    [Property(MaxTest = 150)]
    public Property Sequence_mode_matches_the_reference() =>
        Prop.ForAll(RecurrentCase.Arbitrary(), c =>
        {
            var network = c.Network();
            var spec = c.Spec;
            var output = new float[c.T * c.B * spec.OutputSize];
            var layerOutput = spec.ReadoutSize > 0 ? new float[c.T * c.B * spec.LayerOutputSize] : [];
            var hN = new float[c.StateLength];
            var cN = spec.HasCellState ? new float[c.StateLength] : [];
            using var session = network.CreateSession();
            session.Run(c.X, c.B, output, c.H0, c.C0, hN, cN, layerOutput);

            var expected = c.Reference(network).Forward(RecurrentCase.AsDouble(c.X) ?? [], c.T, c.B, RecurrentCase.AsDouble(c.H0), RecurrentCase.AsDouble(c.C0));
            if (c.T * c.B == 0) return;
            Close(spec.ReadoutSize > 0 ? layerOutput : output, expected.Y, "y", c);
            if (spec.ReadoutSize > 0) Close(output, expected.Out, "out", c);
            Close(hN, expected.HN, "h_n", c);
            if (spec.HasCellState) Close(cN, expected.CN, "c_n", c);
        });

    [Property(MaxTest = 150)]
    public Property Gradients_match_the_reference() =>
        Prop.ForAll(RecurrentCase.Arbitrary(maxSize: 24, maxSteps: 4, maxBatch: 3), c =>
        {
            var network = c.Network();
            var spec = c.Spec;
            using var trainer = new RecurrentTrainer(network);
            trainer.Forward(c.X, c.B, c.H0, c.C0);
            trainer.Backward(c.DOutput, c.DLayerOutput, c.DFinalHidden, c.DFinalCell);

            // The reference's loss: Σ y·dy + Σ h_n·dh_n + Σ c_n·dc_n + Σ out·dout.
            double[]? dy = RecurrentCase.AsDouble(spec.ReadoutSize > 0 ? c.DLayerOutput : c.DOutput);
            double[]? dout = spec.ReadoutSize > 0 ? RecurrentCase.AsDouble(c.DOutput) : null;
            // A relu pre-activation within float32 rounding (~1e-7 here) of 0 may take the other side of the kink in
            // float than in double, and then relu' (0 or 1) differs, a whole gradient term: such cases are not judged
            // (exact zeros, from bias-free layers over zeros, are exact in float too).
            var reference = c.Reference(network);
            if (reference.ReluMargin(RecurrentCase.AsDouble(c.X) ?? [], c.T, c.B, RecurrentCase.AsDouble(c.H0), RecurrentCase.AsDouble(c.C0), ignoreExactZeros: true) < 1e-5) return;
            var expected = reference.Gradients(RecurrentCase.AsDouble(c.X) ?? [], c.T, c.B, RecurrentCase.AsDouble(c.H0), RecurrentCase.AsDouble(c.C0),
                dy, RecurrentCase.AsDouble(c.DFinalHidden), RecurrentCase.AsDouble(c.DFinalCell), dout);
            double floor = ModelFloor * expected.Values.Max(v => v.Length == 0 ? 0 : v.Max(Math.Abs));
            foreach (var slot in network.Tensors)
                Assert.Null(Compare.NormRelative(trainer.Gradient(slot.Name), expected[slot.Name], GradientTolerance, $"{c}: {slot.Name}", floor));
            Assert.Null(Compare.NormRelative(trainer.InputGradient, expected["x"], GradientTolerance, $"{c}: x", floor));
            Assert.Null(Compare.NormRelative(trainer.InitialHiddenGradient, expected["h0"], GradientTolerance, $"{c}: h0", floor));
            if (spec.HasCellState) Assert.Null(Compare.NormRelative(trainer.InitialCellGradient, expected["c0"], GradientTolerance, $"{c}: c0", floor));
        });

    // A session keeps the top layer's states straight in the caller's output (or layer output) when it can: one
    // direction, sequence-first or one stream, no lengths, the output apart from the other spans. Every way through the
    // session gives the bits of the training engine's forward pass, which gathers the states into a buffer of its own:
    // the direct path, a readout reading the state slots (no layer output asked), lengths all T (no lengths), real
    // lengths (a gathered pass, then a direct one again on the same session), and batch-first with B = 1.
    [Property(MaxTest = 80)]
    public Property Outputs_kept_in_the_callers_buffer_have_the_bits_of_a_gathered_copy() =>
        Prop.ForAll(RecurrentCase.Arbitrary(unidirectional: true), c =>
        {
            var spec = c.Spec with { BatchFirst = false };
            var network = RecurrentNetwork.FromParameters(spec, c.Network().Parameters);
            using var trainer = new RecurrentTrainer(network);
            trainer.Forward(c.X, c.B, c.H0, c.C0);
            float[] expectedOut = trainer.Output.ToArray(), expectedLayer = trainer.LayerOutput.ToArray(), expectedH = trainer.FinalHidden.ToArray();

            using var session = network.CreateSession();
            var output = new float[c.T * c.B * spec.OutputSize];
            var layerOutput = spec.ReadoutSize > 0 ? new float[c.T * c.B * spec.LayerOutputSize] : [];
            var hN = new float[c.StateLength];
            var cN = spec.HasCellState ? new float[c.StateLength] : [];
            void Direct(string what)
            {
                Array.Fill(output, float.NaN);
                session.Run(c.X, c.B, output, c.H0, c.C0, hN, cN, layerOutput);
                Assert.True(output.AsSpan().SequenceEqual(expectedOut), $"{c}: output, {what}");
                if (spec.ReadoutSize > 0) Assert.True(layerOutput.AsSpan().SequenceEqual(expectedLayer), $"{c}: layer output, {what}");
                Assert.True(hN.AsSpan().SequenceEqual(expectedH), $"{c}: h_n, {what}");
            }
            Direct("first pass");
            if (c.T * c.B == 0) return;

            if (spec.ReadoutSize > 0)
            {
                float[] alone = new float[output.Length];
                session.Run(c.X, c.B, alone, c.H0, c.C0, hN, cN);
                Assert.True(alone.AsSpan().SequenceEqual(expectedOut), $"{c}: output without the layer output");
            }

            session.Run(c.X, c.B, Enumerable.Repeat(c.T, c.B).ToArray(), output, c.H0, c.C0, hN, cN, layerOutput);
            Assert.True(output.AsSpan().SequenceEqual(expectedOut), $"{c}: output, lengths all T");

            // Real lengths: stream 0 keeps all T steps, the others end early (a gathered pass).
            int[] lengths = Enumerable.Range(0, c.B).Select(b => b == 0 ? c.T : 1 + b % c.T).ToArray();
            trainer.Forward(c.X, c.B, lengths, c.H0, c.C0);
            session.Run(c.X, c.B, lengths, output, c.H0, c.C0, hN, cN, layerOutput);
            Assert.True(output.AsSpan().SequenceEqual(trainer.Output), $"{c}: output, lengths");
            Assert.True(hN.AsSpan().SequenceEqual(trainer.FinalHidden), $"{c}: h_n, lengths");
            Direct("after a gathered pass");

            if (c.B == 1)
            {
                using var batchFirst = RecurrentNetwork.FromParameters(spec with { BatchFirst = true }, network.Parameters).CreateSession();
                float[] bf = new float[output.Length];
                batchFirst.Run(c.X, 1, bf, c.H0, c.C0);
                Assert.True(bf.AsSpan().SequenceEqual(expectedOut), $"{c}: batch-first, one stream");
            }
        });

    [Theory]
    [InlineData(CellKind.Gru)]
    [InlineData(CellKind.Lstm)]
    [InlineData(CellKind.Rnn)]
    public void An_output_over_the_input_gets_the_bits_of_a_separate_one(CellKind cell)
    {
        // The output overlaps the input one step ahead of it (I = H): a session that kept its states there as it went
        // would overwrite inputs of later projection chunks (7 rows: 2 steps of B = 3) before reading them.
        const int steps = 40, batch = 3, size = 24, row = batch * size;
        var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(cell, size, size), 5);
        float[] buffer = new float[(steps + 1) * row];
        var random = new Random(1);
        for (int k = 0; k < steps * row; k++) buffer[k] = (float)(random.NextDouble() * 2 - 1);
        float[] x = buffer.AsSpan(0, steps * row).ToArray(), separate = new float[steps * row];
        using var session = network.CreateSession();
        session.ProjectionChunkRowsForTests = 7;
        session.Run(x, batch, separate);
        session.Run(buffer.AsSpan(0, steps * row), batch, buffer.AsSpan(row, steps * row));
        Assert.True(buffer.AsSpan(row, steps * row).SequenceEqual(separate));
    }

    [Property(MaxTest = 80)]
    public Property Streaming_steps_equal_the_sequence_run() =>
        Prop.ForAll(RecurrentCase.Arbitrary(unidirectional: true), c =>
        {
            var network = c.Network();
            var spec = c.Spec with { BatchFirst = false };
            network = RecurrentNetwork.FromParameters(spec, network.Parameters);
            int outputSize = spec.OutputSize, perStep = c.B * spec.InputSize;
            var whole = new float[c.T * c.B * outputSize];
            var hN = new float[c.StateLength];
            using (var session = network.CreateSession()) session.Run(c.X, c.B, whole, c.H0, c.C0, hN);

            var state = network.CreateState(c.B);
            if (c.WithInitialState) state.Restore([.. c.H0, .. c.C0]);
            // Not bit-identical: a step multiplies one row by GEMV, a sequence all T·B rows by GEMM, which sum in
            // another order; both are within float32 rounding of the exact values (see the reference properties).
            var step = new float[c.B * outputSize];
            for (int t = 0; t < c.T; t++)
            {
                state.Step(c.X.AsSpan(t * perStep, perStep), step);
                Close(step, Array.ConvertAll(whole[(t * c.B * outputSize)..((t + 1) * c.B * outputSize)], v => (double)v), $"step {t}", c);
            }
            if (c.T > 0) Close(state.Hidden, Array.ConvertAll(hN, v => (double)v), "h", c);
        });

    [Fact]
    public void Snapshot_restore_copy_and_reset_round_trip()
    {
        var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(CellKind.Lstm, 5, 9) { Layers = 2 }, seed: 3);
        var state = network.CreateState(batch: 2);
        float[] x = Enumerable.Range(0, 10).Select(i => MathF.Sin(i)).ToArray();
        var y = new float[18];
        for (int k = 0; k < 3; k++) state.Step(x, y);
        var snapshot = new float[state.SnapshotLength];
        state.Save(snapshot);
        Assert.Equal(2 * 2 * 2 * 9, snapshot.Length);

        var copy = network.CreateState(batch: 2);
        state.CopyTo(copy);
        float[] a = new float[18], b = new float[18], c = new float[18];
        state.Step(x, a);
        copy.Step(x, b);
        state.Restore(snapshot);
        state.Step(x, c);
        Assert.Equal(a, b);
        Assert.Equal(a, c);

        state.Reset();
        Assert.All(state.Hidden.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(state.Cell.ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => state.Restore(new float[5])).ParamName);
        Assert.Throws<ArgumentException>(() => state.CopyTo(network.CreateState(batch: 3)));
    }

    [Fact]
    public void Wrong_sizes_name_the_argument_and_change_nothing()
    {
        var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(CellKind.Gru, 4, 6) { ReadoutSize = 2 }, seed: 1);
        var state = network.CreateState(batch: 3);
        state.Step(new float[12], new float[6]);
        float[] before = state.Hidden.ToArray();
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => state.Step(new float[11], new float[6])).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => state.Step(new float[12], new float[18])).ParamName);
        Assert.Equal(before, state.Hidden.ToArray());

        using var session = network.CreateSession();
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => session.Run(new float[13], 3, new float[6])).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => session.Run(new float[12], 3, new float[5])).ParamName);
        Assert.Equal("initialHidden", Assert.Throws<ArgumentException>(() => session.Run(new float[12], 3, new float[6], new float[17])).ParamName);
        Assert.Equal("initialCell", Assert.Throws<ArgumentException>(() => session.Run(new float[12], 3, new float[6], default, new float[18])).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => session.Run(new float[12], 0, new float[6])).ParamName);

        Assert.Throws<InvalidOperationException>(() =>
            RecurrentNetwork.CreateRandom(new RecurrentSpec(CellKind.Gru, 4, 6) { Bidirectional = true }, 1).CreateState());
        var e = Assert.Throws<ArgumentException>(() => RecurrentNetwork.FromTensors(new RecurrentSpec(CellKind.Rnn, 2, 3),
            new Dictionary<string, (int[], float[])> { ["weight_ih_l0"] = ([3, 2], new float[6]) }));
        Assert.Contains("'weight_hh_l0' is missing (expected shape [3, 3])", e.Message);
    }
}
