using SimdRnn.Interop;
using SimdRnn.Networks;

namespace SimdRnn.Cli;

/// <summary>The settings of <c>simdrnn run</c>.</summary>
public sealed record RunSettings
{
    /// <summary>The model: a PyTorch state_dict as safetensors, or an .onnx model.</summary>
    public required string Model { get; init; }

    /// <summary>The input file: "x" [T,B,I] and optional "h0" [L·D,B,H], "c0", "lengths" (int64/int32 [B]: each sequence's length; outputs past it are zero).</summary>
    public required string Input { get; init; }

    /// <summary>The output file: "y", "h_n", "c_n" (LSTM), "out" (with a readout).</summary>
    public required string Output { get; init; }

    /// <summary>Overrides the Elman activation from the file's metadata.</summary>
    public Nonlinearity? Nonlinearity { get; init; }

    /// <summary>Overrides the readout activation from the file's metadata.</summary>
    public ReadoutActivation? Head { get; init; }

    /// <summary>Overrides the layout: x, y and out as [B,T,·].</summary>
    public bool? BatchFirst { get; init; }

    /// <summary>
    /// The format of the recurrent weight matrices to run on (<see cref="RecurrentNetwork.WithWeightFormat"/>); null for
    /// the file's: fp32, or bf16 for a file a bf16 network was saved to.
    /// </summary>
    public WeightPrecision? Weights { get; init; }
}

/// <summary>Runs a PyTorch (safetensors) or ONNX recurrent model over the sequences of a safetensors file.</summary>
public static class RunModel
{
    /// <summary>Loads the model and the inputs, runs every sequence, writes the outputs atomically.</summary>
    /// <param name="settings">The files and overrides.</param>
    /// <returns>The network that ran and the batch size.</returns>
    /// <exception cref="ModelFormatException">A file is malformed or does not fit the model.</exception>
    /// <exception cref="ArgumentException">int8 weights were asked for and a weight is NaN or ±∞ (named).</exception>
    public static (RecurrentNetwork Network, int Batch, int Steps) Run(RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var network = ModelFiles.Load(settings.Model, new PyTorchLoadOptions
        {
            Nonlinearity = settings.Nonlinearity,
            ReadoutActivation = settings.Head,
            BatchFirst = settings.BatchFirst,
        });
        if (settings.Weights is { } precision) network = network.WithWeightFormat(precision);
        var spec = network.Spec;
        var io = SafetensorsFile.Load(settings.Input);
        var xInfo = ModelFiles.About(settings.Input, () => io.GetInfo("x"));
        if (xInfo.Rank != 3 || xInfo.Shape[2] != spec.InputSize)
            throw new ModelFormatException($"{settings.Input}: tensor 'x' has shape [{string.Join(", ", xInfo.Shape)}], expected [T, B, {spec.InputSize}]{(spec.BatchFirst ? " (batch-first: [B, T, I])" : "")}.");
        int steps = (int)xInfo.Shape[spec.BatchFirst ? 1 : 0], batch = (int)xInfo.Shape[spec.BatchFirst ? 0 : 1];
        if (batch < 1) throw new ModelFormatException($"{settings.Input}: tensor 'x' has no sequences (B = 0).");
        float[] x = io.ReadFloat32("x");
        int[] stateShape = [spec.Layers * spec.Directions, batch, spec.HiddenSize];
        float[] h0 = ReadState(io, "h0", stateShape, settings.Input);
        float[] c0 = spec.HasCellState ? ReadState(io, "c0", stateShape, settings.Input) : [];
        int[] lengths = ModelFiles.ReadLengths(io, settings.Input, steps, batch);

        var output = new float[steps * batch * spec.OutputSize];
        var layerOutput = spec.ReadoutSize > 0 ? new float[steps * batch * spec.LayerOutputSize] : [];
        var hN = new float[stateShape[0] * batch * spec.HiddenSize];
        var cN = spec.HasCellState ? new float[hN.Length] : [];
        using (var session = network.CreateSession())
            session.Run(x, batch, lengths, output, h0, c0, hN, cN, layerOutput);

        int[] Sequence(int width) => spec.BatchFirst ? [batch, steps, width] : [steps, batch, width];
        var writer = new SafetensorsWriter();
        writer.Add("y", spec.ReadoutSize > 0 ? layerOutput : output, Sequence(spec.LayerOutputSize));
        writer.Add("h_n", hN, stateShape);
        if (spec.HasCellState) writer.Add("c_n", cN, stateShape);
        if (spec.ReadoutSize > 0) writer.Add("out", output, Sequence(spec.ReadoutSize));
        writer.SetMetadata("model", Path.GetFileName(settings.Model));
        writer.SetMetadata("weights", ModelFiles.WeightsName(network.WeightPrecision));
        writer.Save(settings.Output);
        return (network, batch, steps);
    }

    private static float[] ReadState(SafetensorsFile io, string name, int[] shape, string path)
    {
        if (!io.TryGetInfo(name, out var info)) return [];
        if (!info.GetShapeInt32().AsSpan().SequenceEqual(shape))
            throw new ModelFormatException($"{path}: tensor '{name}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", shape)}].");
        return io.ReadFloat32(name);
    }
}
