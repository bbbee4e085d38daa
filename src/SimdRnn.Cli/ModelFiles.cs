using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Onnx;

namespace SimdRnn.Cli;

/// <summary>Loads a model file by its extension: <c>.onnx</c> through <see cref="OnnxImport"/>, anything else as a PyTorch state_dict in safetensors.</summary>
public static class ModelFiles
{
    /// <summary>Whether <paramref name="path"/> names an ONNX model (extension <c>.onnx</c>, any case).</summary>
    /// <param name="path">The file.</param>
    /// <returns>True for .onnx.</returns>
    public static bool IsOnnx(string path) => string.Equals(Path.GetExtension(path), ".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>Every weight format and its CLI name (<c>--weights</c>, the saved file's "weights" metadata), in listing order.</summary>
    private static readonly (string Name, WeightPrecision Precision)[] s_weightFormats =
    [
        ("fp32", WeightPrecision.Float32),
        ("bf16", WeightPrecision.BFloat16),
        ("int8", WeightPrecision.Int8),
        ("int8-int16", WeightPrecision.Int8WithInt16Activations), // int8 weights, int16 activations
    ];

    /// <summary>The CLI's names of the weight formats (<c>--weights</c>): fp32, bf16, int8, int8-int16.</summary>
    public static IReadOnlyList<string> WeightFormatNames { get; } = Array.ConvertAll(s_weightFormats, f => f.Name);

    /// <summary>Every weight format, in the order of <see cref="WeightFormatNames"/> (<c>bench --weights all</c>).</summary>
    public static IReadOnlyList<WeightPrecision> WeightFormats { get; } = Array.ConvertAll(s_weightFormats, f => f.Precision);

    /// <summary>The weight format called <paramref name="name"/> (one of <see cref="WeightFormatNames"/>).</summary>
    /// <param name="name">The CLI name.</param>
    /// <returns>The precision.</returns>
    /// <exception cref="ArgumentException">Not one of the names.</exception>
    public static WeightPrecision ParseWeights(string name)
    {
        foreach (var (formatName, precision) in s_weightFormats)
            if (formatName == name) return precision;
        throw new ArgumentException($"--weights must be one of {string.Join(", ", WeightFormatNames)}, not '{name}'.", nameof(name));
    }

    /// <summary>The CLI name of <paramref name="precision"/> (one of <see cref="WeightFormatNames"/>).</summary>
    /// <param name="precision">The precision.</param>
    /// <returns>The name.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined precision.</exception>
    public static string WeightsName(WeightPrecision precision)
    {
        foreach (var (name, formatPrecision) in s_weightFormats)
            if (formatPrecision == precision) return name;
        throw new ArgumentOutOfRangeException(nameof(precision), precision, "Not a weight precision.");
    }

    /// <summary>
    /// The bytes the recurrent weight matrices (every <c>weight_ih_l*</c> / <c>weight_hh_l*</c>) take in
    /// <paramref name="precision"/> — 4 per element in fp32, 2 in bf16, 1 plus a 4-byte scale per row in int8 (with or
    /// without int16 activations) — and the
    /// bytes of everything else (biases and the readout, always fp32).
    /// </summary>
    /// <param name="network">The network.</param>
    /// <param name="precision">The format.</param>
    /// <returns>(recurrent weight matrices, the others) in bytes.</returns>
    public static (long Matrices, long Others) WeightBytes(RecurrentNetwork network, WeightPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(network);
        long elements = 0, rows = 0;
        foreach (var slot in network.Tensors)
        {
            if (!slot.Name.StartsWith("weight_ih_l", StringComparison.Ordinal) && !slot.Name.StartsWith("weight_hh_l", StringComparison.Ordinal)) continue;
            elements += slot.Length;
            rows += slot.Dimensions[0];
        }
        long matrices = precision switch
        {
            WeightPrecision.BFloat16 => 2 * elements,
            WeightPrecision.Int8 or WeightPrecision.Int8WithInt16Activations => elements + 4 * rows,
            _ => 4 * elements,
        };
        return (matrices, 4L * (network.ParameterCount - elements));
    }

    /// <summary>Loads the network in <paramref name="path"/>.</summary>
    /// <param name="path">A .onnx model, or a PyTorch state_dict as safetensors.</param>
    /// <param name="options">
    /// For safetensors, the prefixes and overrides of the file's metadata. An ONNX graph fixes the architecture itself,
    /// so for .onnx only overrides that agree with the graph are accepted (prefixes are ignored).
    /// </param>
    /// <returns>The network.</returns>
    /// <exception cref="ModelFormatException">The file is malformed, holds no network the loader accepts, or an override contradicts an ONNX graph.</exception>
    public static RecurrentNetwork Load(string path, PyTorchLoadOptions? options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!IsOnnx(path)) return PyTorchModel.Load(path, options);
        var network = OnnxImport.Load(path);
        if (options is null) return network;
        var spec = network.Spec;
        if (spec.Cell == CellKind.Rnn && options.Nonlinearity is { } nonlinearity && nonlinearity != spec.Nonlinearity)
            throw new ModelFormatException($"{path}: the ONNX graph's activation is {spec.Nonlinearity}, not {nonlinearity}; the graph fixes it.");
        if (spec.ReadoutSize > 0 && options.ReadoutActivation is { } activation && activation != spec.ReadoutActivation)
            throw new ModelFormatException($"{path}: the ONNX graph's readout activation is {spec.ReadoutActivation}, not {activation}; the graph fixes it.");
        if (options.BatchFirst is { } batchFirst && batchFirst != spec.BatchFirst)
            throw new ModelFormatException($"{path}: the ONNX graph is {(spec.BatchFirst ? "batch-first" : "sequence-first")}; the graph fixes the layout.");
        if (spec.Cell == CellKind.Gru && options.LinearBeforeReset is { } lbr && lbr != spec.LinearBeforeReset)
            throw new ModelFormatException($"{path}: the ONNX graph's linear_before_reset is {(spec.LinearBeforeReset ? 1 : 0)}; the graph fixes it.");
        return network;
    }

    /// <summary>
    /// Reads the optional sequence lengths of a data file: tensor "lengths", int64 or int32, shape [B], each in 1..T
    /// (packed-sequence semantics: row b is valid at t &lt; lengths[b]). Absent: an empty array (every row T long).
    /// </summary>
    /// <param name="file">The loaded data file.</param>
    /// <param name="path">Its path, for messages.</param>
    /// <param name="steps">T.</param>
    /// <param name="batch">B.</param>
    /// <returns>The lengths, or empty.</returns>
    /// <exception cref="ModelFormatException">The tensor is not an integer [B] tensor or a length is outside 1..T.</exception>
    public static int[] ReadLengths(SafetensorsFile file, string path, int steps, int batch)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!file.TryGetInfo("lengths", out var info)) return [];
        if (info.DType is not (SafetensorsDType.I64 or SafetensorsDType.I32))
            throw new ModelFormatException($"{path}: tensor 'lengths' is {info.DType}; sequence lengths are an integer tensor (I64 or I32) of shape [B].");
        if (info.Rank != 1 || info.Shape[0] != batch)
            throw new ModelFormatException($"{path}: tensor 'lengths' has shape [{string.Join(", ", info.Shape)}], expected [{batch}] (one length per sequence).");
        ReadOnlySpan<byte> bytes = file.GetBytes("lengths").Span;
        var lengths = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            long value = info.DType == SafetensorsDType.I64
                ? System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * b)..])
                : System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * b)..]);
            if (value < 1 || value > steps)
                throw new ModelFormatException($"{path}: tensor 'lengths'[{b}] = {value}; every length must be in 1..T = 1..{steps}.");
            lengths[b] = (int)value;
        }
        return lengths;
    }

    /// <summary>Runs <paramref name="read"/>, prefixing the path to a <see cref="ModelFormatException"/> that lacks it.</summary>
    internal static T About<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (ModelFormatException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new ModelFormatException($"{path}: {e.Message}", e);
        }
    }
}
