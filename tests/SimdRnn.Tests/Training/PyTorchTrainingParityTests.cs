using System.Globalization;
using SimdRnn.Interop;
using SimdRnn.Tests.Interop;
using SimdRnn.Training;

namespace SimdRnn.Tests.Training;

/// <summary>
/// Training matches PyTorch: the fixtures (tools/pytorch/make_training_fixtures.py) hold PyTorch's losses and final
/// parameters after five steps of SGD or Adam, with element-wise gradient clipping, on BCE or MSE, summed or averaged.
/// </summary>
public class PyTorchTrainingParityTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in Fixtures.List("training", "*.safetensors")) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Losses_and_final_weights_match_pytorch(string fixture)
    {
        var file = SafetensorsFile.Load(Fixtures.Get("training", fixture));
        var meta = file.Metadata;
        var network = PyTorchModel.Load(file);
        var options = new TrainerOptions
        {
            Optimizer = meta["optimizer"] == "adam" ? OptimizerKind.Adam : OptimizerKind.Sgd,
            LearningRate = float.Parse(meta["lr"], CultureInfo.InvariantCulture),
            GradientClip = meta["clip"] == "none" ? float.PositiveInfinity : float.Parse(meta["clip"], CultureInfo.InvariantCulture),
            Loss = meta["loss"] == "bce" ? LossKind.BinaryCrossEntropy : LossKind.SquaredError,
            Reduction = meta["reduction"] == "mean" ? LossReduction.Mean : LossReduction.Sum,
        };
        int batch = int.Parse(meta["batch"], CultureInfo.InvariantCulture);
        float[] x = file.ReadFloat32("x"), target = file.ReadFloat32("target"), losses = file.ReadFloat32("losses");
        using var trainer = new RecurrentTrainer(network, options);
        for (int step = 0; step < losses.Length; step++)
        {
            double loss = trainer.TrainStep(x, batch, target).Loss;
            // The loss in double from float32 outputs: 1e-5 relative.
            Assert.True(Math.Abs(loss - losses[step]) <= 1e-5 * Math.Abs(losses[step]), $"step {step}: loss {loss:R} vs PyTorch {losses[step]:R}");
        }

        // Final weights: 1e-5 absolute. SGD moves each weight by lr·g (g agrees to ~1e-6 relative); Adam moves it by
        // about lr·m̂/√v̂, bounded by lr, where float32 gradients agreeing to ~1e-6 change m̂/√v̂ by about as much.
        var trained = trainer.ToNetwork();
        foreach (var slot in trained.Tensors)
        {
            string stored = "final." + (slot.Name.StartsWith("head.", StringComparison.Ordinal) ? slot.Name : "rnn." + slot.Name);
            float[] expected = file.ReadFloat32(stored);
            ReadOnlySpan<float> actual = trained.Tensor(slot.Name);
            for (int k = 0; k < expected.Length; k++)
                Assert.True(Math.Abs(actual[k] - expected[k]) <= 1e-5, $"{fixture}: {slot.Name}[{k}]: {actual[k]:R} vs PyTorch {expected[k]:R}");
        }
    }
}
