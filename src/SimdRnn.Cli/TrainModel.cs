using System.Globalization;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Onnx;
using SimdRnn.Training;

namespace SimdRnn.Cli;

/// <summary>The settings of <c>simdrnn train</c>; the defaults are the seed document's.</summary>
public sealed record TrainSettings
{
    /// <summary>The initial model (a PyTorch state_dict as safetensors, or an .onnx model).</summary>
    public required string Model { get; init; }

    /// <summary>The data: "x" [T,B,I], "target" [T,B,O], optional "h0", "c0", "lengths" (int64/int32 [B]: the loss counts each sequence's first lengths[b] steps only).</summary>
    public required string Data { get; init; }

    /// <summary>
    /// Where the trained model goes, written atomically: a safetensors state_dict with PyTorch's names (the initial
    /// model's prefix; "rnn." for an ONNX initial model), or an ONNX model (<see cref="OnnxExport"/>) when the name ends in .onnx.
    /// </summary>
    public required string Output { get; init; }

    /// <summary>Epochs: one forward, one exact BPTT and one update over the whole data each.</summary>
    public int Epochs { get; init; } = 1000;

    /// <summary>The optimizer's learning rate.</summary>
    public float LearningRate { get; init; } = 0.1f;

    /// <summary>The element-wise gradient clip; 0 turns clipping off.</summary>
    public float Clip { get; init; } = 5f;

    /// <summary>The loss.</summary>
    public LossKind Loss { get; init; } = LossKind.BinaryCrossEntropy;

    /// <summary>Sum or mean over time steps, batch and outputs.</summary>
    public LossReduction Reduction { get; init; } = LossReduction.Sum;

    /// <summary>SGD or Adam.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>Overrides the Elman activation from the file's metadata.</summary>
    public Nonlinearity? Nonlinearity { get; init; }

    /// <summary>Overrides the readout activation from the file's metadata.</summary>
    public ReadoutActivation? Head { get; init; }

    /// <summary>A CSV file for the loss of every epoch, or null.</summary>
    public string? Log { get; init; }

    /// <summary>A PNG file for the loss curve, or null.</summary>
    public string? Plot { get; init; }
}

/// <summary>The result of a training run.</summary>
/// <param name="Network">The trained network.</param>
/// <param name="Losses">The loss of every epoch, measured before its update.</param>
/// <param name="SkippedUpdates">Epochs whose loss or gradients were not finite, so their update was skipped.</param>
public sealed record TrainResult(RecurrentNetwork Network, double[] Losses, int SkippedUpdates);

/// <summary>Trains a PyTorch recurrent model on a safetensors data file.</summary>
public static class TrainModel
{
    /// <summary>Loads, trains (reporting each epoch to <paramref name="progress"/>), saves atomically, and writes the log and plot.</summary>
    /// <param name="settings">Files and hyper-parameters.</param>
    /// <param name="progress">Called after every epoch with (epoch, report); may be null.</param>
    /// <returns>The trained network and the losses.</returns>
    /// <exception cref="ModelFormatException">A file is malformed or does not fit the model.</exception>
    /// <exception cref="ArgumentException">A hyper-parameter is out of range.</exception>
    public static TrainResult Run(TrainSettings settings, Action<int, LossReport>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Epochs < 0) throw new ArgumentOutOfRangeException(nameof(settings), settings.Epochs, "--epochs must be zero or positive.");
        var loadOptions = new PyTorchLoadOptions { Nonlinearity = settings.Nonlinearity, ReadoutActivation = settings.Head };
        // The trained state_dict keeps a safetensors model's module prefix; an ONNX initial model gets "rnn.".
        string prefix = ModelFiles.IsOnnx(settings.Model) ? "rnn." : ModelFiles.About(settings.Model, () => PyTorchModel.DetectPrefix(SafetensorsFile.Load(settings.Model)));
        var network = ModelFiles.Load(settings.Model, loadOptions);
        var spec = network.Spec;
        var data = SafetensorsFile.Load(settings.Data);
        var x = ModelFiles.About(settings.Data, () => data.GetInfo("x"));
        if (x.Rank != 3 || x.Shape[2] != spec.InputSize || x.Shape[0] * x.Shape[1] == 0 && x.ElementCount != 0)
            throw new ModelFormatException($"{settings.Data}: tensor 'x' has shape [{string.Join(", ", x.Shape)}], expected [T, B, {spec.InputSize}].");
        int steps = (int)x.Shape[spec.BatchFirst ? 1 : 0], batch = (int)x.Shape[spec.BatchFirst ? 0 : 1];
        var target = ModelFiles.About(settings.Data, () => data.GetInfo("target"));
        long[] expectedTarget = spec.BatchFirst ? [batch, steps, spec.OutputSize] : [steps, batch, spec.OutputSize];
        if (!target.Shape.SequenceEqual(expectedTarget))
            throw new ModelFormatException($"{settings.Data}: tensor 'target' has shape [{string.Join(", ", target.Shape)}], expected [{string.Join(", ", expectedTarget)}].");
        if (batch < 1) throw new ModelFormatException($"{settings.Data}: tensor 'x' holds no sequence (B = 0).");
        float[] inputs = data.ReadFloat32("x"), targets = data.ReadFloat32("target");
        float[] h0 = data.Contains("h0") ? data.ReadFloat32("h0") : [];
        float[] c0 = spec.HasCellState && data.Contains("c0") ? data.ReadFloat32("c0") : [];
        int[] lengths = ModelFiles.ReadLengths(data, settings.Data, steps, batch);

        var options = new TrainerOptions
        {
            Optimizer = settings.Optimizer,
            LearningRate = settings.LearningRate,
            GradientClip = settings.Clip == 0 ? float.PositiveInfinity : settings.Clip,
            Loss = settings.Loss,
            Reduction = settings.Reduction,
        };
        var losses = new double[settings.Epochs];
        int skipped = 0;
        using (var trainer = new RecurrentTrainer(network, options))
        {
            for (int epoch = 0; epoch < settings.Epochs; epoch++)
            {
                var report = trainer.TrainStep(inputs, batch, lengths, targets, h0, c0);
                losses[epoch] = report.Loss;
                if (!report.Updated) skipped++;
                progress?.Invoke(epoch + 1, report);
            }
            network = trainer.ToNetwork();
        }

        if (ModelFiles.IsOnnx(settings.Output)) OnnxExport.Save(network, settings.Output);
        else PyTorchModel.Save(network, settings.Output, prefix);
        if (settings.Log is not null) WriteLog(settings.Log, losses);
        if (settings.Plot is not null) LossPlot.Save(settings.Plot, losses, $"{spec.Cell} {settings.Optimizer} lr {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}, {settings.Loss} ({settings.Reduction})");
        return new TrainResult(network, losses, skipped);
    }

    private static void WriteLog(string path, double[] losses)
    {
        using var writer = new StreamWriter(path);
        writer.WriteLine("epoch,loss");
        for (int k = 0; k < losses.Length; k++)
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{k + 1},{losses[k]:R}"));
    }
}
