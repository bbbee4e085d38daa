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
