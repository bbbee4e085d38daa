using Google.Protobuf;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Onnx.Protos;

namespace SimdRnn.Onnx;

/// <summary>
/// Reads an ONNX model of an <c>RNN</c>, <c>GRU</c> or <c>LSTM</c> network into a <see cref="RecurrentNetwork"/>: the
/// graphs <c>torch.onnx.export</c> writes for <c>nn.RNN</c>/<c>nn.GRU</c>/<c>nn.LSTM</c> (+ an <c>nn.Linear</c> head),
/// the graphs <see cref="OnnxExport"/> writes, and hand-built graphs of a single recurrent operator.
/// </summary>
/// <remarks>
/// <para>
/// Accepted: one recurrent node per layer (all of one operator, hidden size, direction and activation), layers chained
/// through Transpose(0, 2, 1, 3) + Reshape([0, 0, -1]) or Squeeze(axis 1) of <c>Y</c>; initial states as a graph input
/// sliced per layer (Slice on axis 0) and final states concatenated (Concat on axis 0); a batch-first input and output
/// (Transpose(1, 0, 2)); a readout MatMul or Gemm with Add and an optional Sigmoid; Identity, Cast, and constant
/// folding of Constant/Unsqueeze/Squeeze/Gather/Concat over integer constants. Weights come from float32 initializers
/// or Constant nodes (raw_data or float_data). Gate blocks are put back into PyTorch's order (ONNX GRU z, r, h →
/// PyTorch r, z, n; ONNX LSTM i, o, f, c → PyTorch i, f, g, o), <c>B = [Wb | Rb]</c> becomes <c>bias_ih</c>,
/// <c>bias_hh</c> (see <see cref="OnnxImportOptions.Bias"/>).
/// </para>
/// <para>
/// Refused with a <see cref="ModelFormatException"/> that names the node (name and op_type) and the reason: a single
/// <c>reverse</c> direction, <c>clip</c>, non-default activations or activation_alpha/beta, LSTM peepholes (<c>P</c>)
/// or <c>input_forget</c>, <c>sequence_lens</c>, <c>layout</c> = 1, operators outside these patterns, non-float
/// weights, external data, and bytes that are not an ONNX model.
/// </para>
/// </remarks>
public static class OnnxImport
{
    /// <summary>Reads the network in an .onnx file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <returns>The network.</returns>
    /// <exception cref="ModelFormatException">The file is not an ONNX model or its graph is not one the import accepts; the message starts with the path and names the node.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static RecurrentNetwork Load(string path, OnnxImportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return Load(bytes, options);
        }
        catch (ModelFormatException e)
        {
            throw new ModelFormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads the network in a serialized ONNX <c>ModelProto</c>.</summary>
    /// <param name="model">The model's bytes.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <returns>The network.</returns>
    /// <exception cref="ModelFormatException">The bytes are not an ONNX model or its graph is not one the import accepts.</exception>
    public static RecurrentNetwork Load(byte[] model, OnnxImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Load(model.AsSpan(), options);
    }

    /// <summary>Reads the network in a serialized ONNX <c>ModelProto</c>.</summary>
    /// <param name="model">The model's bytes.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <returns>The network.</returns>
    /// <exception cref="ModelFormatException">The bytes are not an ONNX model or its graph is not one the import accepts.</exception>
    public static RecurrentNetwork Load(ReadOnlySpan<byte> model, OnnxImportOptions? options = null) =>
        Import(Parse(model), options ?? new OnnxImportOptions());

    /// <summary>Describes an .onnx file's graph (nodes, initializers, inputs, outputs) without importing it.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The summary.</returns>
    /// <exception cref="ModelFormatException">The file is not an ONNX model.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static OnnxModelSummary Describe(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return Describe(bytes);
        }
        catch (ModelFormatException e)
        {
            throw new ModelFormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Describes a serialized ONNX model's graph (nodes, initializers, inputs, outputs) without importing it.</summary>
    /// <param name="model">The model's bytes.</param>
    /// <returns>The summary.</returns>
    /// <exception cref="ModelFormatException">The bytes are not an ONNX model.</exception>
    public static OnnxModelSummary Describe(ReadOnlySpan<byte> model)
    {
        var proto = Parse(model);
        var graph = proto.Graph ?? throw new ModelFormatException("The model has no graph.");
        var initializerNames = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        return new OnnxModelSummary(
            proto.ProducerName,
            proto.ProducerVersion,
            proto.IrVersion,
            [.. proto.OpsetImport.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version}")],
            [.. graph.Input.Where(v => !initializerNames.Contains(v.Name)).Select(v => v.Name)],
            [.. graph.Output.Select(v => v.Name)],
            [.. graph.Node.Select(n => new OnnxNodeSummary(n.Name, n.OpType, [.. n.Input], [.. n.Output]))],
            [.. graph.Initializer.Select(t => new OnnxTensorSummary(t.Name, OnnxImportTensors.DataTypeName(t.DataType), [.. t.Dims]))]);
    }

    internal static ModelProto Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) throw new ModelFormatException("The model is empty (0 bytes).");
        try
        {
            return ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelFormatException($"Not an ONNX model: the protobuf is malformed ({e.Message})", e);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException or FormatException)
        {
            throw new ModelFormatException($"Not an ONNX model: the protobuf cannot be read ({e.Message})", e);
        }
    }

    internal static RecurrentNetwork Import(ModelProto model, OnnxImportOptions options)
    {
        if (model.Graph is null) throw new ModelFormatException("Not an ONNX model of a network: the ModelProto has no graph.");
        foreach (var opset in model.OpsetImport)
            if ((opset.Domain.Length == 0 || opset.Domain == "ai.onnx") && opset.Version is > 0 and < 7)
                throw new ModelFormatException($"The model imports opset {opset.Version}; the import reads RNN/GRU/LSTM from opset 7 on.");
        try
        {
            return new OnnxGraphReader(model.Graph, options).Read();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException or InvalidCastException)
        {
            // A well-formed protobuf whose fields contradict each other in a way no check above names.
            throw new ModelFormatException($"The graph cannot be read: {e.Message}", e);
        }
    }
}
