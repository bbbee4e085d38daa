using System.Globalization;
using System.Runtime.InteropServices;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Tests.Interop;
using SimdRnn.Tests.Support;
using SimdRnn.Training;

namespace SimdRnn.Tests.Lengths;

/// <summary>
/// Batches of different-length sequences match PyTorch's packed sequences (tools/pytorch/make_length_fixtures.py:
/// pack_padded_sequence with enforce_sorted=False, padded inputs random): outputs zero past each length, final states
/// at each row's own last step, the reverse direction starting there, no gradient through padded positions, losses
/// over valid positions only. Padded inputs replaced by NaN change nothing.
/// </summary>
public class LengthsTests
{
    // As PyTorchParityTests: outputs 1e-5 absolute (O(1) values, ≤ 6 steps, ≤ 2 layers); gradients 1e-4 relative to
    // each tensor's largest element.
    private const double OutputTolerance = 1e-5;
    private const double GradientTolerance = 1e-4;

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in Fixtures.List("lengths", "*.safetensors").Where(n => !n.StartsWith("train_", StringComparison.Ordinal)))
        {
            data.Add(name, false);
            data.Add(name, true);
        }
        return data;
    }

    public static TheoryData<string> TrainingCases()
    {
        var data = new TheoryData<string>();
        foreach (var name in Fixtures.List("lengths", "train_*.safetensors")) data.Add(name);
        return data;
    }

    /// <summary>Reads an I64 or I32 tensor as int.</summary>
    internal static int[] ReadLengths(SafetensorsFile file, string name = "lengths")
    {
        var info = file.GetInfo(name);
        ReadOnlySpan<byte> bytes = file.GetBytes(name).Span;
        return info.DType switch
        {
            SafetensorsDType.I64 => Array.ConvertAll(MemoryMarshal.Cast<byte, long>(bytes).ToArray(), v => checked((int)v)),
            SafetensorsDType.I32 => MemoryMarshal.Cast<byte, int>(bytes).ToArray(),
            _ => throw new InvalidOperationException(info.DType.ToString()),
        };
    }

    private static float[]? Optional(SafetensorsFile file, string name) => file.Contains(name) ? file.ReadFloat32(name) : null;

    /// <summary>x with every padded position set to NaN (PyTorch never reads them; neither may SimdRnn).</summary>
    private static float[] PaddedWithNaN(float[] x, int[] lengths, int steps, int width, bool batchFirst)
    {
        x = (float[])x.Clone();
        int batch = lengths.Length;
        for (int b = 0; b < batch; b++)
            for (int t = lengths[b]; t < steps; t++)
                x.AsSpan((batchFirst ? b * steps + t : t * batch + b) * width, width).Fill(float.NaN);
        return x;
    }

    private static (float[] X, int[] Lengths, int Steps, int Batch) Inputs(SafetensorsFile file, RecurrentSpec spec, bool nan)
    {
        int batch = int.Parse(file.Metadata["batch"], CultureInfo.InvariantCulture);
        float[] x = file.ReadFloat32("x");
        int steps = x.Length / (batch * spec.InputSize);
        int[] lengths = ReadLengths(file);
        return (nan ? PaddedWithNaN(x, lengths, steps, spec.InputSize, spec.BatchFirst) : x, lengths, steps, batch);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Outputs_and_final_states_match_pytorch_packed_sequences(string fixture, bool nanPadding)
    {
        var file = SafetensorsFile.Load(Fixtures.Get("lengths", fixture));
        var network = PyTorchModel.Load(file);
        var spec = network.Spec;
        var (x, lengths, steps, batch) = Inputs(file, spec, nanPadding);
        foreach (bool parallel in new[] { false, true })
        {
            var output = new float[steps * batch * spec.OutputSize];
            output.AsSpan().Fill(float.NaN); // every element must be written, padded ones as exact zeros
            var layerOutput = spec.ReadoutSize > 0 ? new float[steps * batch * spec.LayerOutputSize] : null;
            var hN = new float[spec.Layers * spec.Directions * batch * spec.HiddenSize];
            var cN = spec.HasCellState ? new float[hN.Length] : null;
            using (var session = network.CreateSession())
            {
                if (parallel)
                {
                    session.MaxDegreeOfParallelism = 2;
                    session.RunParallelForTests(x, batch, output, Optional(file, "h0"), Optional(file, "c0"), hN, cN, layerOutput, lengths);
                }
                else
                {
                    session.Run(x, batch, lengths, output, Optional(file, "h0"), Optional(file, "c0"), hN, cN, layerOutput);
                }
            }
            Check("y", layerOutput ?? output);
            Check("h_n", hN);
            if (cN is not null) Check("c_n", cN);
            if (spec.ReadoutSize > 0) Check("out", output);
        }

        void Check(string name, float[] actual)
        {
            float[] expected = file.ReadFloat32(name);
            Assert.Equal(expected.Length, actual.Length);
            for (int k = 0; k < expected.Length; k++)
            {
                if (expected[k] == 0 && (name == "y" || name == "out")) Assert.True(actual[k] == 0, $"{fixture} {name}[{k}] = {actual[k]:R} at a padded position");
                Assert.True(Math.Abs(expected[k] - actual[k]) <= OutputTolerance, $"{fixture} {name}[{k}]: PyTorch {expected[k]:R}, SimdRnn {actual[k]:R}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_match_pytorch_autograd_through_packed_sequences(string fixture, bool nanPadding)
    {
        var file = SafetensorsFile.Load(Fixtures.Get("lengths", fixture));
        var network = PyTorchModel.Load(file);
        var spec = network.Spec;
        var (x, lengths, _, batch) = Inputs(file, spec, nanPadding);
        using var trainer = new RecurrentTrainer(network);
        trainer.Forward(x, batch, lengths, Optional(file, "h0"), Optional(file, "c0"));
        float[] dy = file.ReadFloat32("dy");
        if (spec.ReadoutSize > 0) trainer.Backward(file.ReadFloat32("dout"), dy, file.ReadFloat32("dh_n"), Optional(file, "dc_n"));
        else trainer.Backward(dy, default, file.ReadFloat32("dh_n"), Optional(file, "dc_n"));

        foreach (var slot in network.Tensors)
            Check(trainer.Gradient(slot.Name), "grad." + (slot.Name.StartsWith("head.", StringComparison.Ordinal) ? slot.Name : "rnn." + slot.Name));
        Check(trainer.InputGradient, "grad.x");
        if (file.Contains("grad.h0")) Check(trainer.InitialHiddenGradient, "grad.h0");
        if (file.Contains("grad.c0")) Check(trainer.InitialCellGradient, "grad.c0");

        // The padded inputs get exactly zero gradient.
        float[] expectedX = file.ReadFloat32("grad.x");
        for (int k = 0; k < expectedX.Length; k++)
            if (expectedX[k] == 0) Assert.Equal(0f, trainer.InputGradient[k]);

        void Check(ReadOnlySpan<float> actual, string name)
        {
            double[] expected = Array.ConvertAll(file.ReadFloat32(name), v => (double)v);
            string? failure = Compare.NormRelative(actual, expected, GradientTolerance, name);
            Assert.True(failure is null, $"{fixture}: {failure}");
        }
    }

    [Theory]
    [MemberData(nameof(TrainingCases))]
    public void Training_on_valid_positions_matches_pytorch(string fixture)
    {
        var file = SafetensorsFile.Load(Fixtures.Get("lengths", fixture));
        var meta = file.Metadata;
        var network = PyTorchModel.Load(file);
        var options = new TrainerOptions
        {
            Optimizer = meta["optimizer"] == "adam" ? OptimizerKind.Adam : OptimizerKind.Sgd,
            LearningRate = float.Parse(meta["lr"], CultureInfo.InvariantCulture),
            GradientClip = float.PositiveInfinity,
            Loss = meta["loss"] == "bce" ? LossKind.BinaryCrossEntropy : LossKind.SquaredError,
            Reduction = meta["reduction"] == "mean" ? LossReduction.Mean : LossReduction.Sum,
        };
        int batch = int.Parse(meta["batch"], CultureInfo.InvariantCulture);
        int[] lengths = ReadLengths(file);
        float[] target = file.ReadFloat32("target"), losses = file.ReadFloat32("losses");
        int steps = target.Length / (batch * network.Spec.OutputSize);
        // Padded inputs and targets as NaN: neither may reach the loss or the weights.
        float[] x = PaddedWithNaN(file.ReadFloat32("x"), lengths, steps, network.Spec.InputSize, network.Spec.BatchFirst);
        target = PaddedWithNaN(target, lengths, steps, network.Spec.OutputSize, network.Spec.BatchFirst);
        using var trainer = new RecurrentTrainer(network, options);
        for (int step = 0; step < losses.Length; step++)
        {
            var report = trainer.TrainStep(x, batch, lengths, target);
            Assert.True(report.Updated);
            // The loss in double from float32 outputs: 1e-5 relative (as PyTorchTrainingParityTests).
            Assert.True(Math.Abs(report.Loss - losses[step]) <= 1e-5 * Math.Abs(losses[step]), $"step {step}: loss {report.Loss:R} vs PyTorch {losses[step]:R}");
        }
        var trained = trainer.ToNetwork();
        foreach (var slot in trained.Tensors)
        {
            string stored = "final." + (slot.Name.StartsWith("head.", StringComparison.Ordinal) ? slot.Name : "rnn." + slot.Name);
            float[] expected = file.ReadFloat32(stored);
            ReadOnlySpan<float> actual = trained.Tensor(slot.Name);
            // 1e-5 absolute, as PyTorchTrainingParityTests.
            for (int k = 0; k < expected.Length; k++)
                Assert.True(Math.Abs(actual[k] - expected[k]) <= 1e-5, $"{fixture}: {slot.Name}[{k}]: {actual[k]:R} vs PyTorch {expected[k]:R}");
        }
    }

    private static RecurrentNetwork Random(CellKind cell, bool bidirectional = true, bool readout = true) =>
        RecurrentNetwork.CreateRandom(new RecurrentSpec(cell, 3, 5)
        {
            Layers = 2, Bidirectional = bidirectional, ReadoutSize = readout ? 2 : 0, ReadoutActivation = ReadoutActivation.Sigmoid,
            LinearBeforeReset = cell != CellKind.Gru,
        }, 7);

    [Theory]
    [InlineData(CellKind.Rnn)]
    [InlineData(CellKind.Gru)]
    [InlineData(CellKind.Lstm)]
    public void Full_lengths_give_the_same_bits_as_no_lengths(CellKind cell)
    {
        var network = Random(cell);
        int steps = 4, batch = 3;
        var rng = new Random(3);
        float[] x = Enumerable.Range(0, steps * batch * 3).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] a = new float[steps * batch * 2], b = new float[a.Length];
        using var session = network.CreateSession();
        session.Run(x, batch, a);
        session.Run(x, batch, new[] { 4, 4, 4 }, b);
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(CellKind.Rnn)]
    [InlineData(CellKind.Gru)]
    [InlineData(CellKind.Lstm)]
    public void A_padded_row_gives_what_its_unpadded_sequence_gives_alone(CellKind cell)
    {
        // Independent of PyTorch: row 1 of length 2 padded to T = 5 equals the 2-step sequence run by itself, for
        // both directions, the final states and the gradients (GRU here with ONNX's linear_before_reset = 0 too).
        var network = Random(cell);
        var spec = network.Spec;
        int steps = 5, batch = 3, len = 2, sd = spec.Layers * spec.Directions, h = spec.HiddenSize;
        var rng = new Random(5);
        float[] x = Enumerable.Range(0, steps * batch * 3).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        int[] lengths = [5, len, 3];
        float[] y = new float[steps * batch * 2], hN = new float[sd * batch * h];
        using var session = network.CreateSession();
        session.Run(x, batch, lengths, y, finalHidden: hN);
        float[] alone = new float[len * 3];
        for (int t = 0; t < len; t++) x.AsSpan((t * batch + 1) * 3, 3).CopyTo(alone.AsSpan(t * 3));
        float[] yAlone = new float[len * 2], hAlone = new float[sd * h];
        session.Run(alone, 1, yAlone, finalHidden: hAlone);
        for (int t = 0; t < steps; t++)
            for (int o = 0; o < 2; o++)
                Assert.Equal(t < len ? yAlone[t * 2 + o] : 0f, y[(t * batch + 1) * 2 + o], 6);
        for (int s = 0; s < sd; s++)
            for (int k = 0; k < h; k++)
                Assert.Equal(hAlone[s * h + k], hN[(s * batch + 1) * h + k], 6);
    }

    [Fact]
    public void Bad_lengths_are_named_and_change_nothing()
    {
        var network = Random(CellKind.Lstm);
        using var session = network.CreateSession();
        using var trainer = new RecurrentTrainer(network);
        float[] x = new float[4 * 2 * 3], y = new float[4 * 2 * 2], targets = new float[y.Length];
        y.AsSpan().Fill(7);
        foreach (int[] bad in new[] { new[] { 0, 4 }, new[] { 5, 1 }, new[] { 4 }, new[] { 1, 2, 3 }, new[] { -1, 2 } })
        {
            var e = Assert.Throws<ArgumentException>(() => session.Run(x, 2, bad, y));
            Assert.Equal("lengths", e.ParamName);
            Assert.All(y, v => Assert.Equal(7f, v));
            Assert.Equal("lengths", Assert.Throws<ArgumentException>(() => trainer.Forward(x, 2, bad)).ParamName);
            Assert.Equal("lengths", Assert.Throws<ArgumentException>(() => trainer.TrainStep(x, 2, bad, targets)).ParamName);
            Assert.Equal(0, trainer.UpdateCount);
        }
    }

    [Theory]
    [InlineData(CellKind.Gru, 1)]
    [InlineData(CellKind.Lstm, 4)]
    [InlineData(CellKind.Rnn, 3)]
    public void Runs_and_training_iterations_with_lengths_allocate_nothing(CellKind cell, int batch)
    {
        var network = Random(cell);
        int[] lengths = Enumerable.Range(0, batch).Select(b => 7 - 2 * b % 7 == 0 ? 1 : Math.Max(1, 7 - 2 * b)).ToArray();
        float[] x = new float[7 * batch * 3], y = new float[7 * batch * 2], hN = new float[4 * batch * 5], targets = new float[y.Length];
        using var session = network.CreateSession();
        Assert.Equal(0, Allocations.Of(() => session.Run(x, batch, lengths, y, default, default, hN)));
        using var trainer = new RecurrentTrainer(network, new TrainerOptions { Optimizer = OptimizerKind.Adam, LearningRate = 0.01f });
        Assert.Equal(0, Allocations.Of(() => trainer.TrainStep(x, batch, lengths, targets)));
    }
}
