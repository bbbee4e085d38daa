using SimdRnn.Networks;

namespace SimdRnn.Onnx;

/// <summary>Options for <see cref="OnnxImport"/>.</summary>
public sealed record OnnxImportOptions
{
    /// <summary>
    /// The bias form of the imported network. Null (the default) takes it from the graph: <see cref="BiasMode.Pair"/>
    /// when the recurrent nodes have a <c>B</c> input (ONNX always stores both halves, <c>[Wb | Rb]</c>), else
    /// <see cref="BiasMode.None"/>. <see cref="BiasMode.Single"/> (or <see cref="BiasMode.None"/>) narrows a graph
    /// whose <c>Rb</c> (or whole <c>B</c>) is all zeros, which is how <c>torch.onnx.export</c> and
    /// <see cref="OnnxExport"/> write those forms; the import is refused if the dropped biases are not zero.
    /// </summary>
    public BiasMode? Bias { get; init; }
}
