namespace SimdRnn.Onnx;

/// <summary>What an ONNX model file holds, for display: its producer, operator sets, graph inputs and outputs, nodes and initializers.</summary>
/// <param name="ProducerName">The model's <c>producer_name</c> (e.g. <c>pytorch</c>, <c>SimdRnn</c>).</param>
/// <param name="ProducerVersion">The model's <c>producer_version</c>.</param>
/// <param name="IrVersion">The ONNX IR version.</param>
/// <param name="Opsets">The imported operator sets as <c>domain version</c> (the default domain as <c>ai.onnx</c>).</param>
/// <param name="Inputs">The graph inputs that are not initializers.</param>
/// <param name="Outputs">The graph outputs.</param>
/// <param name="Nodes">The nodes in graph order.</param>
/// <param name="Initializers">The initializers (constant tensors) with their types and shapes.</param>
public sealed record OnnxModelSummary(
    string ProducerName,
    string ProducerVersion,
    long IrVersion,
    IReadOnlyList<string> Opsets,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<OnnxNodeSummary> Nodes,
    IReadOnlyList<OnnxTensorSummary> Initializers);

/// <summary>One node of an ONNX graph.</summary>
/// <param name="Name">The node's name (may be empty).</param>
/// <param name="OpType">The operator, e.g. <c>LSTM</c>, <c>Slice</c>.</param>
/// <param name="Inputs">The input value names (empty strings for omitted optional inputs).</param>
/// <param name="Outputs">The output value names.</param>
public sealed record OnnxNodeSummary(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs)
{
    /// <summary>A one-line description: <c>OpType name (inputs) → (outputs)</c>.</summary>
    /// <returns>The line.</returns>
    public override string ToString() => $"{OpType,-10} {Name} ({string.Join(", ", Inputs)}) -> ({string.Join(", ", Outputs)})";
}

/// <summary>One initializer of an ONNX graph.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DataType">The element type, e.g. <c>Float</c>, <c>Int64</c>.</param>
/// <param name="Shape">The dimensions.</param>
public sealed record OnnxTensorSummary(string Name, string DataType, IReadOnlyList<long> Shape)
{
    /// <summary>A one-line description: <c>name DataType [dims]</c>.</summary>
    /// <returns>The line.</returns>
    public override string ToString() => $"{Name} {DataType} [{string.Join(", ", Shape)}]";
}
