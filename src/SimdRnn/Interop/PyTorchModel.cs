using System.Globalization;
using SimdRnn.Networks;

namespace SimdRnn.Interop;

/// <summary>Options for reading a PyTorch state_dict; null properties are taken from the file's metadata, else defaults.</summary>
public sealed record PyTorchLoadOptions
{
    /// <summary>The recurrent module's prefix, e.g. <c>"rnn."</c>; null finds it from the name ending in <c>weight_ih_l0</c>.</summary>
    public string? Prefix { get; init; }

    /// <summary>The readout nn.Linear's prefix (default <c>"head."</c>).</summary>
    public string HeadPrefix { get; init; } = "head.";

    /// <summary>The Elman cell's activation (metadata <c>nonlinearity</c>; default tanh).</summary>
    public Nonlinearity? Nonlinearity { get; init; }

    /// <summary>The readout's activation (metadata <c>head</c>: linear | sigmoid; default none).</summary>
    public ReadoutActivation? ReadoutActivation { get; init; }

    /// <summary>Batch-first layout (metadata <c>batch_first</c>; default false).</summary>
    public bool? BatchFirst { get; init; }

    /// <summary>GRU form (metadata <c>linear_before_reset</c>; default true, PyTorch's).</summary>
    public bool? LinearBeforeReset { get; init; }
}

/// <summary>
/// Reads and writes PyTorch state_dicts of nn.RNN / nn.GRU / nn.LSTM (with an optional nn.Linear readout) as
/// safetensors. The architecture follows from the tensors: the cell from the row count of <c>weight_ih_l0</c>
/// (G·H rows, G = 1, 3, 4), the layers and directions from the names, the bias form from which biases exist
/// (both: PyTorch's pair; only <c>bias_ih</c>: one bias; none: bias-free), the readout from <c>head.weight</c>.
/// </summary>
public static class PyTorchModel
{
    /// <summary>Loads a network from a safetensors file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Overrides; null for the file's metadata and the defaults.</param>
    /// <returns>The network.</returns>
    /// <exception cref="ModelFormatException">The file is malformed, or a tensor is missing, extra or mis-shaped (named, with expected and actual shape).</exception>
    public static RecurrentNetwork Load(string path, PyTorchLoadOptions? options = null)
    {
        var file = SafetensorsFile.Load(path);
        try
        {
            return Load(file, options);
        }
        catch (ModelFormatException e)
        {
            throw new ModelFormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Loads a network from a parsed safetensors file (on bf16 weights if its metadata says <c>weights = bf16</c>, as <see cref="Save"/> writes for a bf16 network).</summary>
    /// <param name="file">The file.</param>
    /// <param name="options">Overrides; null for the file's metadata and the defaults.</param>
    /// <returns>The network.</returns>
    /// <exception cref="ModelFormatException">A tensor is missing, extra or mis-shaped, or the shapes fit no architecture.</exception>
    public static RecurrentNetwork Load(SafetensorsFile file, PyTorchLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        options ??= new PyTorchLoadOptions();
        string prefix = options.Prefix ?? DetectPrefix(file);
        var spec = InferSpec(file, prefix, options);
        var tensors = new Dictionary<string, (int[] Shape, float[] Data)>(StringComparer.Ordinal);
        foreach (var info in file.Tensors)
        {
            // The readout's tensors, and the recurrent module's (with no prefix, only weight_* and bias_* names).
            string? name = null;
            if (info.Name.StartsWith(options.HeadPrefix, StringComparison.Ordinal)) name = "head." + info.Name[options.HeadPrefix.Length..];
            else if (info.Name.StartsWith(prefix, StringComparison.Ordinal) && (prefix.Length > 0 || LooksRecurrent(info.Name))) name = info.Name[prefix.Length..];
            if (name is null) continue;
            tensors[name] = (info.GetShapeInt32(), file.ReadFloat32(info.Name));
        }
        CheckShapes(spec, tensors, prefix, options.HeadPrefix);
        try
        {
            // A bf16 network saved by Save comes back on bf16 weights (its BF16 tensors widen exactly, so rounding them
            // again changes nothing).
            var network = RecurrentNetwork.FromTensors(spec, tensors);
            return file.Metadata.TryGetValue("weights", out var weights) && weights == "bf16" ? network.WithWeightFormat(WeightPrecision.BFloat16) : network;
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(e.Message.Replace(" (Parameter 'tensors')", "", StringComparison.Ordinal)
                .Replace("Tensor '", "Tensor '" + prefix, StringComparison.Ordinal).Replace("Tensor '" + prefix + "head.", "Tensor '" + options.HeadPrefix, StringComparison.Ordinal), e);
        }
    }

    /// <summary>
    /// Saves a network as a safetensors state_dict that PyTorch's <c>load_state_dict</c> accepts (names
    /// <paramref name="prefix"/> + PyTorch's, the readout under <paramref name="headPrefix"/>) with <c>__metadata__</c>
    /// describing the architecture; SimdRnn reloads it bit-exactly. The save is atomic.
    /// </summary>
    /// <remarks>
    /// A network on <see cref="WeightPrecision.BFloat16"/> weights saves its <c>weight_ih_l*</c> / <c>weight_hh_l*</c>
    /// matrices as <c>BF16</c> tensors — the rounded values it runs on, half the bytes — and its biases and readout as
    /// <c>F32</c>, with metadata <c>weights = bf16</c>; PyTorch's <c>load_state_dict</c> accepts it (it converts to the
    /// module's dtype), and <see cref="Load(string, PyTorchLoadOptions?)"/> gives back a bf16 network with the same
    /// effective weights (its fp32 master is then the bf16 values). Other networks save their fp32 master parameters as
    /// <c>F32</c> (an <see cref="WeightPrecision.Int8"/> network's int8 weights are derived from them again by
    /// <see cref="RecurrentNetwork.WithWeightFormat"/>).
    /// </remarks>
    /// <param name="network">The network.</param>
    /// <param name="path">The file to write.</param>
    /// <param name="prefix">The recurrent module's prefix (default <c>"rnn."</c>).</param>
    /// <param name="headPrefix">The readout's prefix (default <c>"head."</c>).</param>
    public static void Save(RecurrentNetwork network, string path, string prefix = "rnn.", string headPrefix = "head.")
    {
        ArgumentNullException.ThrowIfNull(network);
        var writer = new SafetensorsWriter();
        foreach (var slot in network.Tensors)
        {
            string name = slot.Name.StartsWith("head.", StringComparison.Ordinal) ? headPrefix + slot.Name["head.".Length..] : prefix + slot.Name;
            bool bf16 = network.WeightPrecision == WeightPrecision.BFloat16
                        && (slot.Name.StartsWith("weight_ih_l", StringComparison.Ordinal) || slot.Name.StartsWith("weight_hh_l", StringComparison.Ordinal));
            writer.Add(name, network.Parameters.Slice(slot.Offset, slot.Length), slot.Shape, bf16 ? SafetensorsDType.BF16 : SafetensorsDType.F32);
        }
        foreach (var (key, value) in Metadata(network.Spec)) writer.SetMetadata(key, value);
        if (network.WeightPrecision == WeightPrecision.BFloat16) writer.SetMetadata("weights", "bf16");
        writer.Save(path);
    }

    /// <summary>The <c>__metadata__</c> that describes an architecture (the keys the loader reads, and sizes).</summary>
    /// <param name="spec">The architecture.</param>
    /// <returns>Key → value.</returns>
    public static IReadOnlyDictionary<string, string> Metadata(RecurrentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var inv = CultureInfo.InvariantCulture;
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["cell"] = spec.Cell.ToString().ToLowerInvariant(),
            ["nonlinearity"] = spec.Nonlinearity == Nonlinearity.Relu ? "relu" : "tanh",
            ["num_layers"] = spec.Layers.ToString(inv),
            ["bidirectional"] = spec.Bidirectional ? "true" : "false",
            ["bias"] = spec.Bias.ToString().ToLowerInvariant(),
            ["batch_first"] = spec.BatchFirst ? "true" : "false",
            ["head"] = spec.ReadoutSize == 0 ? "none" : spec.ReadoutActivation == ReadoutActivation.Sigmoid ? "sigmoid" : "linear",
            ["input_size"] = spec.InputSize.ToString(inv),
            ["hidden_size"] = spec.HiddenSize.ToString(inv),
        };
        if (spec.Cell == CellKind.Gru) metadata["linear_before_reset"] = spec.LinearBeforeReset ? "true" : "false";
        if (spec.ReadoutSize > 0) metadata["output_size"] = spec.ReadoutSize.ToString(inv);
        return metadata;
    }

    private static bool LooksRecurrent(string name) =>
        name.StartsWith("weight_", StringComparison.Ordinal) || name.StartsWith("bias_", StringComparison.Ordinal);

    /// <summary>The recurrent module's prefix in a state_dict: what precedes the shortest name ending in <c>weight_ih_l0</c>.</summary>
    /// <param name="file">The file.</param>
    /// <returns>The prefix, e.g. <c>"rnn."</c> or <c>""</c>.</returns>
    /// <exception cref="ModelFormatException">No tensor name ends in <c>weight_ih_l0</c>.</exception>
    public static string DetectPrefix(SafetensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        // The shortest such name: a file may also hold e.g. gradients as "grad.rnn.weight_ih_l0".
        string? best = null;
        foreach (var name in file.Names)
            if (name.EndsWith("weight_ih_l0", StringComparison.Ordinal) && (best is null || name.Length < best.Length)) best = name;
        if (best is not null) return best[..^"weight_ih_l0".Length];
        throw new ModelFormatException("No tensor named '…weight_ih_l0': not a state_dict of nn.RNN, nn.GRU or nn.LSTM.");
    }

    private static RecurrentSpec InferSpec(SafetensorsFile file, string prefix, PyTorchLoadOptions options)
    {
        var wih = Info(file, prefix + "weight_ih_l0");
        var whh = Info(file, prefix + "weight_hh_l0");
        if (wih.Rank != 2 || whh.Rank != 2)
            throw new ModelFormatException($"Tensor '{prefix}weight_ih_l0' and '{prefix}weight_hh_l0' must be matrices, got {wih} and {whh}.");
        long hidden = whh.Shape[1], rows = wih.Shape[0];
        if (hidden < 1 || hidden > int.MaxValue || rows % hidden != 0 || whh.Shape[0] != rows)
            throw new ModelFormatException($"Tensor '{prefix}weight_hh_l0' has shape [{string.Join(", ", whh.Shape)}]; with '{prefix}weight_ih_l0' [{string.Join(", ", wih.Shape)}] it fits no RNN, GRU or LSTM (G·H rows, G = 1, 3 or 4).");
        var cell = (rows / hidden) switch
        {
            1 => CellKind.Rnn,
            3 => CellKind.Gru,
            4 => CellKind.Lstm,
            _ => throw new ModelFormatException($"Tensor '{prefix}weight_ih_l0' has {rows} rows for hidden size {hidden}: {rows / hidden} gates fit no RNN (1), GRU (3) or LSTM (4)."),
        };
        int layers = 0;
        while (file.Contains(prefix + "weight_ih_l" + layers.ToString(CultureInfo.InvariantCulture))) layers++;
        bool bidirectional = file.Contains(prefix + "weight_ih_l0_reverse");
        bool hasIh = file.Contains(prefix + "bias_ih_l0"), hasHh = file.Contains(prefix + "bias_hh_l0");
        if (hasHh && !hasIh) throw new ModelFormatException($"Tensor '{prefix}bias_hh_l0' without '{prefix}bias_ih_l0': no bias form has only the recurrent bias.");
        var bias = hasIh && hasHh ? BiasMode.Pair : hasIh ? BiasMode.Single : BiasMode.None;
        int readout = 0;
        if (file.TryGetInfo(options.HeadPrefix + "weight", out var head))
        {
            if (head.Rank != 2 || head.Shape[0] < 1 || head.Shape[0] > int.MaxValue)
                throw new ModelFormatException($"Tensor '{options.HeadPrefix}weight' must be a matrix [O, D·H], got {head}.");
            readout = (int)head.Shape[0];
        }
        var metadata = file.Metadata;
        string? Meta(string key) => metadata.TryGetValue(key, out var v) ? v : null;
        var spec = new RecurrentSpec(cell, (int)Math.Min(int.MaxValue, wih.Shape[1]), (int)hidden)
        {
            Layers = layers,
            Bidirectional = bidirectional,
            Bias = bias,
            ReadoutSize = readout,
            Nonlinearity = options.Nonlinearity ?? (Meta("nonlinearity") == "relu" ? Nonlinearity.Relu : Nonlinearity.Tanh),
            ReadoutActivation = options.ReadoutActivation ?? (Meta("head") == "sigmoid" ? ReadoutActivation.Sigmoid : ReadoutActivation.None),
            BatchFirst = options.BatchFirst ?? Meta("batch_first") == "true",
            LinearBeforeReset = options.LinearBeforeReset ?? Meta("linear_before_reset") != "false",
        };
        try
        {
            spec.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ModelFormatException($"The tensors describe an invalid network: {e.Message}", e);
        }
        return spec;
    }

    /// <summary>
    /// Checks that every tensor the architecture needs is present with its exact shape before the network allocates its
    /// parameters: empty tensors cost no bytes, so a small file can otherwise describe a huge network (a
    /// <c>head.weight</c> of shape [10⁸, 0], or thousands of layers named by empty <c>weight_ih_l{k}</c>). Once every
    /// shape matches, the parameters are no more than the values the file holds.
    /// </summary>
    private static void CheckShapes(RecurrentSpec spec, Dictionary<string, (int[] Shape, float[] Data)> tensors, string prefix, string headPrefix)
    {
        long gh = (long)spec.Gates * spec.HiddenSize, h = spec.HiddenSize, dh = (long)spec.Directions * spec.HiddenSize;
        for (int l = 0; l < spec.Layers; l++)
            for (int d = 0; d < spec.Directions; d++)
            {
                string suffix = "_l" + l.ToString(CultureInfo.InvariantCulture) + (d == 1 ? "_reverse" : "");
                Check("weight_ih" + suffix, gh, l == 0 ? spec.InputSize : dh);
                Check("weight_hh" + suffix, gh, h);
                if (spec.Bias != BiasMode.None) Check("bias_ih" + suffix, gh);
                if (spec.Bias == BiasMode.Pair) Check("bias_hh" + suffix, gh);
            }
        if (spec.ReadoutSize > 0)
        {
            Check("head.weight", spec.ReadoutSize, dh);
            Check("head.bias", spec.ReadoutSize);
        }

        void Check(string name, params long[] shape)
        {
            string fileName = name.StartsWith("head.", StringComparison.Ordinal) ? headPrefix + name["head.".Length..] : prefix + name;
            if (!tensors.TryGetValue(name, out var tensor))
                throw new ModelFormatException($"Tensor '{fileName}' is missing (expected shape [{string.Join(", ", shape)}]).");
            if (!tensor.Shape.Select(v => (long)v).SequenceEqual(shape))
                throw new ModelFormatException($"Tensor '{fileName}' has shape [{string.Join(", ", tensor.Shape)}], expected [{string.Join(", ", shape)}].");
        }
    }

    private static SafetensorsTensorInfo Info(SafetensorsFile file, string name) =>
        file.TryGetInfo(name, out var info) ? info : throw new ModelFormatException($"Tensor '{name}' is missing.");
}
