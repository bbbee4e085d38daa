using System.Runtime.InteropServices;
using Google.Protobuf;
using SimdRnn.Networks;
using SimdRnn.Onnx.Protos;

namespace SimdRnn.Onnx;

/// <summary>
/// Writes a <see cref="RecurrentNetwork"/> as an ONNX model (opset <see cref="OpsetVersion"/>, IR version
/// <see cref="IrVersion"/>) that computes what the network computes, in the form <c>torch.onnx.export</c> gives an
/// <c>nn.RNN</c>/<c>nn.GRU</c>/<c>nn.LSTM</c> (+ <c>nn.Linear</c> head): one ONNX <c>RNN</c>/<c>GRU</c>/<c>LSTM</c> node
/// per layer, its <c>Y</c> [T, D, B, H] turned into [T, B, D·H] by Transpose(0, 2, 1, 3) + Reshape, layers chained,
/// the initial state sliced per layer and the final states concatenated.
/// </summary>
/// <remarks>
/// Inputs: <c>x</c> [T, B, I] ([B, T, I] when <see cref="RecurrentSpec.BatchFirst"/>), <c>h0</c> [L·D, B, H] and,
/// for an LSTM, <c>c0</c> [L·D, B, H]; T and B are symbolic. Outputs: <c>y</c> [T, B, D·H] (or [B, T, D·H]),
/// <c>h_n</c> [L·D, B, H], <c>c_n</c> (LSTM) and, with a readout, <c>out</c> [T, B, O] (MatMul + Add, + Sigmoid).
/// Weights are reordered from PyTorch's gate order to ONNX's (GRU r,z,n → z,r,h; LSTM i,f,g,o → i,o,f,c); missing
/// biases are zeros; a GRU's <see cref="RecurrentSpec.LinearBeforeReset"/> becomes <c>linear_before_reset</c>.
/// </remarks>
public static class OnnxExport
{
    /// <summary>The ONNX operator set the model imports.</summary>
    public const int OpsetVersion = 14;

    /// <summary>The ONNX IR version of the model.</summary>
    public const long IrVersion = 8;

    /// <summary>The input sequence's name.</summary>
    public const string InputName = "x";

    /// <summary>The initial hidden state's name.</summary>
    public const string InitialHiddenName = "h0";

    /// <summary>The initial cell state's name (LSTM).</summary>
    public const string InitialCellName = "c0";

    /// <summary>The top layer's output sequence's name.</summary>
    public const string OutputName = "y";

    /// <summary>The final hidden state's name.</summary>
    public const string FinalHiddenName = "h_n";

    /// <summary>The final cell state's name (LSTM).</summary>
    public const string FinalCellName = "c_n";

    /// <summary>The readout's output name (networks with a readout).</summary>
    public const string ReadoutName = "out";

    /// <summary>Writes <paramref name="network"/> as a serialized ONNX <c>ModelProto</c>.</summary>
    /// <param name="network">The network.</param>
    /// <returns>The model's bytes, ready for an ONNX Runtime session or a .onnx file.</returns>
    public static byte[] ToModelBytes(RecurrentNetwork network) => BuildModel(network).ToByteArray();

    /// <summary>The graph input of sequence lengths, int32 [B], written with <c>sequenceLengths: true</c>.</summary>
    public const string LengthsName = "lengths";

    /// <summary>
    /// Writes <paramref name="network"/> as a serialized ONNX <c>ModelProto</c>; with <paramref name="sequenceLengths"/>
    /// the graph takes a third input, <see cref="LengthsName"/> (int32 [B]), fed to every recurrent node's
    /// <c>sequence_lens</c>: ONNX's packed-sequence semantics, as SimdRnn's runs with lengths. (The readout, a MatMul
    /// over every position, gives act(bias) at padded positions there, where SimdRnn writes zeros.)
    /// </summary>
    /// <param name="network">The network.</param>
    /// <param name="sequenceLengths">Whether to add the lengths input.</param>
    /// <returns>The model's bytes.</returns>
    public static byte[] ToModelBytes(RecurrentNetwork network, bool sequenceLengths) => BuildModel(network, sequenceLengths).ToByteArray();

    /// <summary>Writes <paramref name="network"/> to an .onnx file (replacing it atomically if it exists).</summary>
    /// <param name="network">The network.</param>
    /// <param name="path">The file to write.</param>
    public static void Save(RecurrentNetwork network, string path) => Save(network, path, sequenceLengths: false);

    /// <summary>Writes <paramref name="network"/> to an .onnx file (replacing it atomically), with a <see cref="LengthsName"/> input when asked.</summary>
    /// <param name="network">The network.</param>
    /// <param name="path">The file to write.</param>
    /// <param name="sequenceLengths">Whether the graph takes sequence lengths (see <see cref="ToModelBytes(RecurrentNetwork, bool)"/>).</param>
    public static void Save(RecurrentNetwork network, string path, bool sequenceLengths)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = ToModelBytes(network, sequenceLengths);
        string full = Path.GetFullPath(path);
        string temp = full + ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The ONNX row block taking PyTorch's gate block at each position.</summary>
    private static int[] GatePermutation(CellKind cell) => cell switch
    {
        CellKind.Gru => [1, 0, 2], // ONNX z, r, h ← PyTorch r, z, n
        CellKind.Lstm => [0, 3, 1, 2], // ONNX i, o, f, c ← PyTorch i, f, g, o
        _ => [0],
    };

    internal static ModelProto BuildModel(RecurrentNetwork network, bool sequenceLengths = false)
    {
        ArgumentNullException.ThrowIfNull(network);
        var spec = network.Spec;
        var graph = new GraphProto { Name = spec.Cell.ToString().ToUpperInvariant() };
        var g = new GraphBuilder(graph);
        int h = spec.HiddenSize, d = spec.Directions, ld = spec.Layers * d;

        graph.Input.Add(g.Value(InputName, spec.BatchFirst ? ["B", "T", spec.InputSize] : ["T", "B", spec.InputSize]));
        graph.Input.Add(g.Value(InitialHiddenName, [ld, "B", h]));
        if (spec.HasCellState) graph.Input.Add(g.Value(InitialCellName, [ld, "B", h]));
        if (sequenceLengths)
        {
            var lengths = g.Value(LengthsName, ["B"]);
            lengths.Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Int32;
            graph.Input.Add(lengths);
        }

        string layerInput = InputName;
        if (spec.BatchFirst) layerInput = g.Node("Transpose", [InputName], "x_seq_first", ("perm", new long[] { 1, 0, 2 }));
        string flatShape = g.Int64Constant("shape_t_b_dh", [0, 0, -1]);

        var finalH = new List<string>();
        var finalC = new List<string>();
        for (int l = 0; l < spec.Layers; l++)
        {
            int inputSize = l == 0 ? spec.InputSize : spec.LayerOutputSize;
            string w = g.Initializer($"W_l{l}", [d, spec.Gates * h, inputSize], Weights(network, l, "weight_ih", inputSize));
            string r = g.Initializer($"R_l{l}", [d, spec.Gates * h, h], Weights(network, l, "weight_hh", h));
            string b = g.Initializer($"B_l{l}", [d, 2 * spec.Gates * h], Biases(network, l));
            string h0 = spec.Layers == 1 ? InitialHiddenName : g.SliceLayer(InitialHiddenName, l, d);
            var inputs = new List<string> { layerInput, w, r, b, sequenceLengths ? LengthsName : "", h0 };
            if (spec.HasCellState) inputs.Add(spec.Layers == 1 ? InitialCellName : g.SliceLayer(InitialCellName, l, d));

            var node = new NodeProto { OpType = spec.Cell switch { CellKind.Gru => "GRU", CellKind.Lstm => "LSTM", _ => "RNN" }, Name = $"{spec.Cell}_l{l}" };
            node.Input.AddRange(inputs);
            string y4 = $"Y_l{l}", yh = $"Y_h_l{l}", yc = $"Y_c_l{l}";
            node.Output.Add(y4);
            node.Output.Add(yh);
            if (spec.HasCellState) node.Output.Add(yc);
            node.Attribute.Add(GraphBuilder.Attribute("hidden_size", h));
            node.Attribute.Add(GraphBuilder.Attribute("direction", spec.Bidirectional ? "bidirectional" : "forward"));
            if (spec.Cell == CellKind.Gru) node.Attribute.Add(GraphBuilder.Attribute("linear_before_reset", spec.LinearBeforeReset ? 1 : 0));
            if (spec.Cell == CellKind.Rnn)
            {
                string act = spec.Nonlinearity == Nonlinearity.Relu ? "Relu" : "Tanh";
                node.Attribute.Add(GraphBuilder.Attribute("activations", Enumerable.Repeat(act, d).ToArray()));
            }
            graph.Node.Add(node);
            finalH.Add(yh);
            if (spec.HasCellState) finalC.Add(yc);

            string transposed = g.Node("Transpose", [y4], $"Y_l{l}_tbdh", ("perm", new long[] { 0, 2, 1, 3 }));
            layerInput = g.Node("Reshape", [transposed, flatShape], l == spec.Layers - 1 && !spec.BatchFirst ? OutputName : $"y_l{l}");
        }
        if (spec.BatchFirst) g.Node("Transpose", [layerInput], OutputName, ("perm", new long[] { 1, 0, 2 }));
        g.Node(finalH.Count == 1 ? "Identity" : "Concat", [.. finalH], FinalHiddenName, finalH.Count == 1 ? default : ("axis", 0L));
        if (spec.HasCellState) g.Node(finalC.Count == 1 ? "Identity" : "Concat", [.. finalC], FinalCellName, finalC.Count == 1 ? default : ("axis", 0L));

        object[] yShape = spec.BatchFirst ? ["B", "T", spec.LayerOutputSize] : ["T", "B", spec.LayerOutputSize];
        graph.Output.Add(g.Value(OutputName, yShape));
        graph.Output.Add(g.Value(FinalHiddenName, [ld, "B", h]));
        if (spec.HasCellState) graph.Output.Add(g.Value(FinalCellName, [ld, "B", h]));

        if (spec.ReadoutSize > 0)
        {
            int o = spec.ReadoutSize, dh = spec.LayerOutputSize;
            ReadOnlySpan<float> weight = network.Tensor("head.weight");
            var transposedWeight = new float[dh * o];
            for (int i = 0; i < o; i++)
                for (int j = 0; j < dh; j++)
                    transposedWeight[j * o + i] = weight[i * dh + j];
            string wt = g.Initializer("head_weight_t", [dh, o], transposedWeight);
            string hb = g.Initializer("head_bias", [o], network.Tensor("head.bias").ToArray());
            string mm = g.Node("MatMul", [OutputName, wt], "head_matmul");
            bool sigmoid = spec.ReadoutActivation == ReadoutActivation.Sigmoid;
            string add = g.Node("Add", [mm, hb], sigmoid ? "head_linear" : ReadoutName);
            if (sigmoid) g.Node("Sigmoid", [add], ReadoutName);
            graph.Output.Add(g.Value(ReadoutName, spec.BatchFirst ? ["B", "T", o] : ["T", "B", o]));
        }

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "SimdRnn",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        return model;
    }

    /// <summary>[D, G·H, cols]: both directions' PyTorch matrices with their gate blocks in ONNX order.</summary>
    private static float[] Weights(RecurrentNetwork network, int layer, string kind, int cols)
    {
        var spec = network.Spec;
        int h = spec.HiddenSize, gates = spec.Gates, block = h * cols;
        int[] perm = GatePermutation(spec.Cell);
        var result = new float[spec.Directions * gates * block];
        for (int d = 0; d < spec.Directions; d++)
        {
            ReadOnlySpan<float> source = network.Tensor(TensorName(kind, layer, d));
            for (int k = 0; k < gates; k++)
                source.Slice(perm[k] * block, block).CopyTo(result.AsSpan((d * gates + k) * block, block));
        }
        return result;
    }

    /// <summary>[D, 2·G·H]: each direction's input bias then recurrent bias (zeros where the network has none), ONNX gate order.</summary>
    private static float[] Biases(RecurrentNetwork network, int layer)
    {
        var spec = network.Spec;
        int h = spec.HiddenSize, gates = spec.Gates, gh = gates * h;
        int[] perm = GatePermutation(spec.Cell);
        var result = new float[spec.Directions * 2 * gh];
        for (int d = 0; d < spec.Directions; d++)
        {
            for (int half = 0; half < 2; half++)
            {
                bool present = half == 0 ? spec.Bias != BiasMode.None : spec.Bias == BiasMode.Pair;
                if (!present) continue;
                ReadOnlySpan<float> source = network.Tensor(TensorName(half == 0 ? "bias_ih" : "bias_hh", layer, d));
                for (int k = 0; k < gates; k++)
                    source.Slice(perm[k] * h, h).CopyTo(result.AsSpan(d * 2 * gh + half * gh + k * h, h));
            }
        }
        return result;
    }

    private static string TensorName(string kind, int layer, int direction) =>
        $"{kind}_l{layer}" + (direction == 1 ? "_reverse" : "");

    /// <summary>Adds nodes, constants and value infos to a graph with unique names.</summary>
    private sealed class GraphBuilder(GraphProto graph)
    {
        public string Node(string opType, string[] inputs, string output, (string Name, object Value) attribute = default)
        {
            var node = new NodeProto { OpType = opType, Name = opType + "_" + output };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            if (attribute.Name is not null)
            {
                node.Attribute.Add(attribute.Value switch
                {
                    long[] ints => Attribute(attribute.Name, ints),
                    long i => Attribute(attribute.Name, i),
                    _ => throw new ArgumentException("Unsupported attribute type.", nameof(attribute)),
                });
            }
            graph.Node.Add(node);
            return output;
        }

        /// <summary>Layer <paramref name="layer"/>'s D rows of an [L·D, B, H] state.</summary>
        public string SliceLayer(string state, int layer, int directions)
        {
            string starts = Int64Constant($"{state}_start_l{layer}", [layer * directions]);
            string ends = Int64Constant($"{state}_end_l{layer}", [(layer + 1) * directions]);
            string axes = Int64Constant($"{state}_axes_l{layer}", [0]);
            return Node("Slice", [state, starts, ends, axes], $"{state}_l{layer}");
        }

        public string Initializer(string name, long[] dims, float[] values)
        {
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            tensor.Dims.AddRange(dims);
            if (BitConverter.IsLittleEndian) tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
            else tensor.FloatData.AddRange(values);
            graph.Initializer.Add(tensor);
            return name;
        }

        public string Int64Constant(string name, long[] values)
        {
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
            tensor.Dims.Add(values.Length);
            tensor.Int64Data.AddRange(values);
            graph.Initializer.Add(tensor);
            return name;
        }

        /// <summary>A float tensor's value info; each dimension is a size (int) or a symbolic name (string).</summary>
        public ValueInfoProto Value(string name, object[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (object dim in dims)
            {
                shape.Dim.Add(dim switch
                {
                    int size => new TensorShapeProto.Types.Dimension { DimValue = size },
                    string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                    _ => throw new ArgumentException("A dimension is an int or a string.", nameof(dims)),
                });
            }
            return new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
            };
        }

        public static AttributeProto Attribute(string name, long value) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

        public static AttributeProto Attribute(string name, string value) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

        public static AttributeProto Attribute(string name, long[] values)
        {
            var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            attribute.Ints.AddRange(values);
            return attribute;
        }

        public static AttributeProto Attribute(string name, string[] values)
        {
            var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
            attribute.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
            return attribute;
        }
    }
}
