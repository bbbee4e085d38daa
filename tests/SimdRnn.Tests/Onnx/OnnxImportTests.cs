using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Onnx;
using SimdRnn.Onnx.Protos;
using SimdRnn.Tests.Interop;

namespace SimdRnn.Tests.Onnx;

/// <summary>
/// <see cref="OnnxImport"/>: every torch-exported fixture reproduces PyTorch's numbers in SimdRnn, OnnxExport's models
/// round-trip, a hand-built single-operator graph agrees with ONNX Runtime, and what SimdRnn cannot compute is refused
/// with a message naming the node.
/// </summary>
public sealed class OnnxImportTests
{
    private const double FixtureTolerance = 1e-5;

    [Theory]
    [MemberData(nameof(OnnxExportTests.TorchExportedFixtures), MemberType = typeof(OnnxExportTests))]
    public void Torch_exported_fixture_imports_and_reproduces_PyTorch_outputs(string name)
    {
        var file = SafetensorsFile.Load(Fixtures.Get("pytorch", name + ".safetensors"));
        var network = OnnxImport.Load(Fixtures.Get("onnx", name + ".onnx"));
        var spec = network.Spec;
        var meta = file.Metadata;
        Assert.Equal(meta["cell"], spec.Cell.ToString().ToLowerInvariant());
        Assert.Equal(int.Parse(meta["num_layers"], CultureInfo.InvariantCulture), spec.Layers);
        Assert.Equal(meta["bidirectional"] == "true", spec.Bidirectional);
        Assert.Equal(meta["batch_first"] == "true", spec.BatchFirst);
        Assert.Equal(meta["nonlinearity"], spec.Nonlinearity.ToString().ToLowerInvariant());
        Assert.Equal(meta["head"], spec.ReadoutSize == 0 ? "none" : spec.ReadoutActivation == ReadoutActivation.Sigmoid ? "sigmoid" : "linear");
        Assert.Equal(meta["bias"] == "none" ? BiasMode.None : BiasMode.Pair, spec.Bias);

        int batch = int.Parse(meta["batch"], CultureInfo.InvariantCulture), steps = int.Parse(meta["seq_len"], CultureInfo.InvariantCulture);
        var (y, hN, cN, output) = RunSimdRnn(network, file.ReadFloat32("x"), batch, steps, Optional(file, "h0"), Optional(file, "c0"));
        AssertClose(file.ReadFloat32("y"), y, $"{name}: y", FixtureTolerance);
        AssertClose(file.ReadFloat32("h_n"), hN, $"{name}: h_n", FixtureTolerance);
        if (spec.HasCellState) AssertClose(file.ReadFloat32("c_n"), cN, $"{name}: c_n", FixtureTolerance);
        if (spec.ReadoutSize > 0) AssertClose(file.ReadFloat32("out"), output, $"{name}: out", FixtureTolerance);
    }

    [Theory]
    [MemberData(nameof(OnnxExportTests.TorchExportedFixtures), MemberType = typeof(OnnxExportTests))]
    public void Torch_exported_fixture_has_PyTorchs_parameters(string name)
    {
        // The exporter only reorders the gates; importing puts them back, so the values are PyTorch's, bit for bit.
        var expected = PyTorchModel.Load(SafetensorsFile.Load(Fixtures.Get("pytorch", name + ".safetensors")));
        var network = OnnxImport.Load(Fixtures.Get("onnx", name + ".onnx"), new OnnxImportOptions { Bias = expected.Spec.Bias });
        Assert.Equal(expected.Spec, network.Spec);
        Assert.True(expected.Parameters.SequenceEqual(network.Parameters));
    }

    public static TheoryData<CellKind, int, bool, BiasMode, int, bool> RoundTripCases()
    {
        var data = new TheoryData<CellKind, int, bool, BiasMode, int, bool>();
        int k = 0;
        foreach (CellKind cell in Enum.GetValues<CellKind>())
            foreach (bool bidirectional in new[] { false, true })
                foreach (BiasMode bias in Enum.GetValues<BiasMode>())
                {
                    // Vary layers, readout and layout along the grid so that every value meets every cell.
                    int layers = 1 + k % 3, readout = k % 4 == 1 ? 0 : k % 3;
                    data.Add(cell, layers, bidirectional, bias, readout, k % 2 == 1);
                    k++;
                }
        return data;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void OnnxExport_models_round_trip(CellKind cell, int layers, bool bidirectional, BiasMode bias, int readout, bool batchFirst)
    {
        foreach (bool linearBeforeReset in cell == CellKind.Gru ? new[] { true, false } : new[] { true })
        {
            var spec = new RecurrentSpec(cell, 3, 5)
            {
                Layers = layers,
                Bidirectional = bidirectional,
                Bias = bias,
                ReadoutSize = readout,
                ReadoutActivation = readout > 0 && layers % 2 == 0 ? ReadoutActivation.Sigmoid : ReadoutActivation.None,
                BatchFirst = batchFirst,
                Nonlinearity = cell == CellKind.Rnn && layers != 2 ? Nonlinearity.Relu : Nonlinearity.Tanh,
                LinearBeforeReset = linearBeforeReset,
            };
            var network = RecurrentNetwork.CreateRandom(spec, 1000 + layers * 7 + (int)bias);
            byte[] bytes = OnnxExport.ToModelBytes(network);

            // With the bias form named, the parameters come back bit-exactly.
            var exact = OnnxImport.Load(bytes, new OnnxImportOptions { Bias = bias });
            Assert.Equal(spec, exact.Spec);
            Assert.True(network.Parameters.SequenceEqual(exact.Parameters), $"{spec}: parameters differ");

            // By default ONNX's B gives the pair (zeros where the network had none): the same function.
            var imported = OnnxImport.Load(bytes);
            Assert.Equal(spec with { Bias = BiasMode.Pair }, imported.Spec);
            var random = new Random(7);
            int batch = 2, steps = 4, stateLength = spec.Layers * spec.Directions * batch * spec.HiddenSize;
            float[] Uniform(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            float[] x = Uniform(steps * batch * spec.InputSize), h0 = Uniform(stateLength), c0 = spec.HasCellState ? Uniform(stateLength) : [];
            var a = RunSimdRnn(network, x, batch, steps, h0, c0);
            var b = RunSimdRnn(imported, x, batch, steps, h0, c0);
            AssertClose(a.Y, b.Y, "y", 1e-6);
            AssertClose(a.HN, b.HN, "h_n", 1e-6);
            AssertClose(a.CN, b.CN, "c_n", 1e-6);
            AssertClose(a.Output, b.Output, "out", 1e-6);
        }
    }

    [Fact]
    public void A_bias_form_that_drops_nonzero_biases_is_refused()
    {
        var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(CellKind.Lstm, 3, 4), 5);
        byte[] bytes = OnnxExport.ToModelBytes(network);
        var e = Assert.Throws<ModelFormatException>(() => OnnxImport.Load(bytes, new OnnxImportOptions { Bias = BiasMode.Single }));
        Assert.Contains("Node 'Lstm_l0' (LSTM)", e.Message);
        Assert.Contains("Rb", e.Message);
    }

    // ---- hand-built single-operator graphs ----

    /// <summary>One RNN/GRU/LSTM node "rec" with inputs X, W, R, B, "", initial_h (initial_c) and outputs Y, Y_h (Y_c).</summary>
    private static ModelProto SingleOp(string op, int input, int hidden, int directions, int seed, Action<NodeProto, GraphProto>? edit = null, bool bias = true)
    {
        int gates = op switch { "GRU" => 3, "LSTM" => 4, _ => 1 };
        var random = new Random(seed);
        float[] Uniform(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var graph = new GraphProto { Name = "single" };
        graph.Initializer.Add(Tensor("W", [directions, gates * hidden, input], Uniform(directions * gates * hidden * input)));
        graph.Initializer.Add(Tensor("R", [directions, gates * hidden, hidden], Uniform(directions * gates * hidden * hidden)));
        if (bias) graph.Initializer.Add(Tensor("B", [directions, 2 * gates * hidden], Uniform(directions * 2 * gates * hidden)));
        graph.Input.Add(Value("X", ["T", "N", input]));
        graph.Input.Add(Value("initial_h", [directions, "N", hidden]));
        if (op == "LSTM") graph.Input.Add(Value("initial_c", [directions, "N", hidden]));
        var node = new NodeProto { Name = "rec", OpType = op };
        node.Input.AddRange(op == "LSTM" ? ["X", "W", "R", bias ? "B" : "", "", "initial_h", "initial_c"] : ["X", "W", "R", bias ? "B" : "", "", "initial_h"]);
        node.Output.AddRange(op == "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"]);
        node.Attribute.Add(new AttributeProto { Name = "hidden_size", Type = AttributeProto.Types.AttributeType.Int, I = hidden });
        if (directions == 2) node.Attribute.Add(StringAttribute("direction", "bidirectional"));
        graph.Node.Add(node);
        graph.Output.Add(Value("Y", ["T", directions, "N", hidden]));
        graph.Output.Add(Value("Y_h", [directions, "N", hidden]));
        if (op == "LSTM") graph.Output.Add(Value("Y_c", [directions, "N", hidden]));
        edit?.Invoke(node, graph);
        var model = new ModelProto { IrVersion = 8, ProducerName = "test", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 14 });
        return model;
    }

    private static TensorProto Tensor(string name, long[] dims, float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return tensor;
    }

    private static AttributeProto StringAttribute(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private static AttributeProto StringsAttribute(string name, params string[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        a.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return a;
    }

    private static ValueInfoProto Value(string name, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object dim in dims)
            shape.Dim.Add(dim is int size ? new TensorShapeProto.Types.Dimension { DimValue = size } : new TensorShapeProto.Types.Dimension { DimParam = (string)dim });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    public static TheoryData<string, int, int> OnnxRuntimeCases() => new()
    {
        { "RNN", 1, 0 }, { "RNN", 2, 0 }, { "GRU", 1, 0 }, { "GRU", 2, 1 }, { "GRU", 2, 0 }, { "LSTM", 1, 0 }, { "LSTM", 2, 0 },
    };

    [Theory]
    [MemberData(nameof(OnnxRuntimeCases))]
    public void Hand_built_single_operator_graph_agrees_with_OnnxRuntime(string op, int directions, int linearBeforeReset)
    {
        const int input = 3, hidden = 5, steps = 6, batch = 2;
        var model = SingleOp(op, input, hidden, directions, seed: 42 + directions, edit: (node, _) =>
        {
            if (op == "GRU") node.Attribute.Add(new AttributeProto { Name = "linear_before_reset", Type = AttributeProto.Types.AttributeType.Int, I = linearBeforeReset });
            if (op == "LSTM") node.Attribute.Add(StringsAttribute("activations", [.. Enumerable.Repeat(new[] { "Sigmoid", "Tanh", "Tanh" }, directions).SelectMany(a => a)]));
        });
        byte[] bytes = model.ToByteArray();
        var network = OnnxImport.Load(bytes);
        Assert.Equal(op == "GRU" ? CellKind.Gru : op == "LSTM" ? CellKind.Lstm : CellKind.Rnn, network.Spec.Cell);
        Assert.Equal(op != "GRU" || linearBeforeReset == 1, network.Spec.LinearBeforeReset);

        var random = new Random(3);
        float[] Uniform(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        int stateLength = directions * batch * hidden;
        float[] x = Uniform(steps * batch * input), h0 = Uniform(stateLength), c0 = Uniform(stateLength);
        var mine = RunSimdRnn(network, x, batch, steps, h0, op == "LSTM" ? c0 : null);

        using var session = new InferenceSession(bytes);
        var names = new List<string> { "X", "initial_h" };
        var values = new List<OrtValue>
        {
            OrtValue.CreateTensorValueFromMemory(x, new long[] { steps, batch, input }),
            OrtValue.CreateTensorValueFromMemory(h0, new long[] { directions, batch, hidden }),
        };
        if (op == "LSTM")
        {
            names.Add("initial_c");
            values.Add(OrtValue.CreateTensorValueFromMemory(c0, new long[] { directions, batch, hidden }));
        }
        try
        {
            var outputNames = session.OutputMetadata.Keys.ToList();
            using var results = session.Run(new RunOptions(), names, values, outputNames);
            var ort = outputNames.Zip(results).ToDictionary(p => p.First, p => p.Second.GetTensorDataAsSpan<float>().ToArray());
            // ONNX's Y is [T, D, B, H]; SimdRnn's y is PyTorch's [T, B, D·H].
            var y = new float[ort["Y"].Length];
            for (int t = 0; t < steps; t++)
                for (int d = 0; d < directions; d++)
                    for (int b = 0; b < batch; b++)
                        Array.Copy(ort["Y"], ((t * directions + d) * batch + b) * hidden, y, ((t * batch + b) * directions + d) * hidden, hidden);
            AssertClose(y, mine.Y, $"{op}: Y", 1e-5);
            AssertClose(ort["Y_h"], mine.HN, $"{op}: Y_h", 1e-5);
            if (op == "LSTM") AssertClose(ort["Y_c"], mine.CN, $"{op}: Y_c", 1e-5);
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    [Fact]
    public void Constant_node_weights_folded_shapes_and_a_Gemm_readout_agree_with_OnnxRuntime()
    {
        const int input = 3, hidden = 4, outputs = 2, steps = 5, batch = 3;
        var model = SingleOp("LSTM", input, hidden, 1, seed: 77, edit: (node, graph) =>
        {
            // W from a Constant node with float_data instead of an initializer.
            var w = graph.Initializer.Single(t => t.Name == "W");
            graph.Initializer.Remove(w);
            var wFloats = new TensorProto { Name = "W", DataType = w.DataType };
            wFloats.Dims.AddRange(w.Dims);
            wFloats.FloatData.AddRange(MemoryMarshal.Cast<byte, float>(w.RawData.Span).ToArray());
            graph.Node.Insert(0, new NodeProto { Name = "w_const", OpType = "Constant", Output = { "W" }, Attribute = { new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = wFloats } } });

            // Squeeze axes = Unsqueeze(Gather([3, 1, 2], 1), [0]) = [1]; Reshape shape = Concat([-1], [H]).
            graph.Node.Add(IntConstantNode("dims", [3], [3, 1, 2]));
            graph.Node.Add(IntConstantNode("one", [], [1]));
            graph.Node.Add(IntConstantNode("zero", [1], [0]));
            graph.Node.Add(new NodeProto { Name = "gather", OpType = "Gather", Input = { "dims", "one" }, Output = { "axis" } });
            graph.Node.Add(new NodeProto { Name = "unsqueeze", OpType = "Unsqueeze", Input = { "axis", "zero" }, Output = { "axes" } });
            graph.Node.Add(new NodeProto { Name = "squeeze", OpType = "Squeeze", Input = { "Y", "axes" }, Output = { "y" } });
            graph.Node.Add(IntConstantNode("minus_one", [1], [-1]));
            graph.Node.Add(IntConstantNode("width", [1], [hidden]));
            graph.Node.Add(new NodeProto { Name = "shape", OpType = "Concat", Input = { "minus_one", "width" }, Output = { "flat_shape" }, Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 } } });
            graph.Node.Add(new NodeProto { Name = "flatten", OpType = "Reshape", Input = { "y", "flat_shape" }, Output = { "y_flat" } });
            var random = new Random(5);
            graph.Initializer.Add(Tensor("head_w", [outputs, hidden], Enumerable.Range(0, outputs * hidden).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()));
            graph.Initializer.Add(Tensor("head_b", [outputs], [0.25f, -0.5f]));
            graph.Node.Add(new NodeProto
            {
                Name = "head", OpType = "Gemm", Input = { "y_flat", "head_w", "head_b" }, Output = { "logits" },
                Attribute =
                {
                    new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 },
                    new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 0.5f },
                    new AttributeProto { Name = "beta", Type = AttributeProto.Types.AttributeType.Float, F = 2f },
                },
            });
            graph.Node.Add(new NodeProto { Name = "sigmoid", OpType = "Sigmoid", Input = { "logits" }, Output = { "out" } });
            graph.Output.RemoveAt(0); // Y
            graph.Output.Add(Value("out", ["TN", outputs]));
        });
        byte[] bytes = model.ToByteArray();
        var network = OnnxImport.Load(bytes);
        Assert.Equal(outputs, network.Spec.ReadoutSize);
        Assert.Equal(ReadoutActivation.Sigmoid, network.Spec.ReadoutActivation);

        var random = new Random(8);
        float[] Uniform(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] x = Uniform(steps * batch * input), h0 = Uniform(batch * hidden), c0 = Uniform(batch * hidden);
        var mine = RunSimdRnn(network, x, batch, steps, h0, c0);
        using var session = new InferenceSession(bytes);
        var values = new List<OrtValue>
        {
            OrtValue.CreateTensorValueFromMemory(x, new long[] { steps, batch, input }),
            OrtValue.CreateTensorValueFromMemory(h0, new long[] { 1, batch, hidden }),
            OrtValue.CreateTensorValueFromMemory(c0, new long[] { 1, batch, hidden }),
        };
        try
        {
            var outputNames = session.OutputMetadata.Keys.ToList();
            using var results = session.Run(new RunOptions(), ["X", "initial_h", "initial_c"], values, outputNames);
            var ort = outputNames.Zip(results).ToDictionary(p => p.First, p => p.Second.GetTensorDataAsSpan<float>().ToArray());
            AssertClose(ort["out"], mine.Output, "out", 1e-5);
            AssertClose(ort["Y_h"], mine.HN, "Y_h", 1e-5);
            AssertClose(ort["Y_c"], mine.CN, "Y_c", 1e-5);
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    private static NodeProto IntConstantNode(string output, long[] dims, long[] values)
    {
        var tensor = new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        return new NodeProto { Name = output + "_const", OpType = "Constant", Output = { output }, Attribute = { new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = tensor } } };
    }

    [Fact]
    public void Hand_built_graph_without_B_is_bias_free()
    {
        var network = OnnxImport.Load(SingleOp("GRU", 3, 4, 1, 1, bias: false).ToByteArray());
        Assert.Equal(BiasMode.None, network.Spec.Bias);
        Assert.False(network.Spec.LinearBeforeReset);
    }

    public static TheoryData<string, string, string> RefusalCases() => new()
    {
        { "lstm_peepholes", "LSTM", "the peephole input P ('P') is given and not all zero" },
        { "gru_relu_tanh", "GRU", "activations [Relu, Tanh]" },
        { "clip", "LSTM", "clip" },
        { "reverse", "GRU", "reverse" },
        { "sequence_lens", "RNN", "constant lengths are not read" },
        { "input_forget", "LSTM", "input_forget" },
        { "activation_alpha", "RNN", "activation_alpha" },
        { "layout", "GRU", "layout = 2 is not 0 or 1" },
        { "double_weights", "RNN", "element type Double" },
        { "rnn_sigmoid", "RNN", "activations [Sigmoid]" },
    };

    [Theory]
    [MemberData(nameof(RefusalCases))]
    public void Unsupported_recurrent_operator_is_refused_naming_the_node(string what, string op, string reason)
    {
        var model = SingleOp(op, 3, 4, 1, 9, (node, graph) =>
        {
            switch (what)
            {
                case "lstm_peepholes":
                    graph.Initializer.Add(Tensor("P", [1, 12], Enumerable.Repeat(0.5f, 12).ToArray()));
                    node.Input.Add("P");
                    break;
                case "gru_relu_tanh":
                    node.Attribute.Add(StringsAttribute("activations", "Relu", "Tanh"));
                    break;
                case "clip":
                    node.Attribute.Add(new AttributeProto { Name = "clip", Type = AttributeProto.Types.AttributeType.Float, F = 3 });
                    break;
                case "reverse":
                    node.Attribute.Add(StringAttribute("direction", "reverse"));
                    break;
                case "sequence_lens":
                    graph.Initializer.Add(new TensorProto { Name = "lens", DataType = (int)TensorProto.Types.DataType.Int32, Dims = { 1 }, Int32Data = { 3 } });
                    node.Input[4] = "lens";
                    break;
                case "input_forget":
                    node.Attribute.Add(new AttributeProto { Name = "input_forget", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
                    break;
                case "activation_alpha":
                    var alpha = new AttributeProto { Name = "activation_alpha", Type = AttributeProto.Types.AttributeType.Floats };
                    alpha.Floats.Add(0.5f);
                    node.Attribute.Add(alpha);
                    break;
                case "layout":
                    node.Attribute.Add(new AttributeProto { Name = "layout", Type = AttributeProto.Types.AttributeType.Int, I = 2 });
                    break;
                case "double_weights":
                    var w = graph.Initializer.Single(t => t.Name == "W");
                    w.DataType = (int)TensorProto.Types.DataType.Double;
                    break;
                case "rnn_sigmoid":
                    node.Attribute.Add(StringsAttribute("activations", "Sigmoid"));
                    break;
            }
        });
        var e = Assert.Throws<ModelFormatException>(() => OnnxImport.Load(model.ToByteArray()));
        Assert.Contains($"Node 'rec' ({op})", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void An_unknown_operator_in_the_graph_is_refused_naming_it()
    {
        var model = SingleOp("LSTM", 3, 4, 1, 2, (node, graph) =>
        {
            graph.Node.Add(new NodeProto { Name = "mystery", OpType = "Softmax", Input = { "Y" }, Output = { "Z" } });
            graph.Output.Add(Value("Z", ["T", 1, "N", 4]));
        });
        var e = Assert.Throws<ModelFormatException>(() => OnnxImport.Load(model.ToByteArray()));
        Assert.StartsWith("Node 'mystery' (Softmax):", e.Message);
        Assert.Contains("not part of the patterns", e.Message);
    }

    [Fact]
    public void A_graph_without_a_recurrent_node_is_refused()
    {
        var model = SingleOp("RNN", 3, 4, 1, 2, (node, graph) =>
        {
            graph.Node.Clear();
            graph.Output.Clear();
        });
        var e = Assert.Throws<ModelFormatException>(() => OnnxImport.Load(model.ToByteArray()));
        Assert.Contains("no RNN, GRU or LSTM node", e.Message);
    }

    [Fact]
    public void Garbage_and_truncated_bytes_give_ModelFormatException_only()
    {
        Assert.Throws<ModelFormatException>(() => OnnxImport.Load(Array.Empty<byte>()));
        Assert.Throws<ModelFormatException>(() => OnnxImport.Load("this is not a protobuf at all, just text"u8.ToArray()));
        Assert.Throws<ModelFormatException>(() => OnnxImport.Load(new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2 }));

        byte[] model = File.ReadAllBytes(Fixtures.Get("onnx", "lstm_bi2.onnx"));
        int refused = 0, total = 0;
        for (int length = 1; length < model.Length; length += 1 + length / 40)
        {
            total++;
            try
            {
                OnnxImport.Load(model.AsSpan(0, length));
            }
            catch (ModelFormatException)
            {
                refused++;
            }
        }
        Assert.True(refused >= total - 2, $"only {refused} of {total} truncations refused");

        var random = new Random(12);
        for (int k = 0; k < 300; k++)
        {
            byte[] bytes = new byte[random.Next(1, 400)];
            random.NextBytes(bytes);
            if (k % 3 == 0) Array.Copy(model, bytes, Math.Min(bytes.Length, 40)); // a plausible start
            try
            {
                OnnxImport.Load(bytes);
            }
            catch (ModelFormatException)
            {
            }
        }

        // Flipped bytes inside a real model: ModelFormatException or a model, nothing else.
        for (int k = 0; k < 300; k++)
        {
            byte[] bytes = (byte[])model.Clone();
            bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
            try
            {
                OnnxImport.Load(bytes);
            }
            catch (ModelFormatException)
            {
            }
        }
    }

    [Fact]
    public void Load_from_a_path_prefixes_the_path_and_Describe_lists_nodes_and_initializers()
    {
        string path = Path.Combine(Path.GetTempPath(), $"simdrnn-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(path, [1, 2, 3]);
            var e = Assert.Throws<ModelFormatException>(() => OnnxImport.Load(path));
            Assert.StartsWith(path + ":", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
        var summary = OnnxImport.Describe(Fixtures.Get("onnx", "lstm_bi2.onnx"));
        Assert.Equal("pytorch", summary.ProducerName);
        Assert.Equal(2, summary.Nodes.Count(n => n.OpType == "LSTM"));
        Assert.Contains(summary.Initializers, t => t.DataType == "Float" && t.Shape.SequenceEqual(new long[] { 2, 28, 5 }));
        Assert.Equal(new[] { "x", "h0", "c0" }, summary.Inputs);
    }

    // ---- helpers ----

    private static float[]? Optional(SafetensorsFile file, string name) => file.Contains(name) ? file.ReadFloat32(name) : null;

    private static (float[] Y, float[] HN, float[] CN, float[] Output) RunSimdRnn(RecurrentNetwork network, float[] x, int batch, int steps, float[]? h0, float[]? c0)
    {
        var spec = network.Spec;
        var output = new float[steps * batch * spec.OutputSize];
        var layerOutput = spec.ReadoutSize > 0 ? new float[steps * batch * spec.LayerOutputSize] : [];
        var hN = new float[spec.Layers * spec.Directions * batch * spec.HiddenSize];
        var cN = spec.HasCellState ? new float[hN.Length] : [];
        using var session = network.CreateSession();
        session.Run(x, batch, output, h0, spec.HasCellState ? c0 : default, hN, cN, layerOutput);
        return spec.ReadoutSize > 0 ? (layerOutput, hN, cN, output) : (output, hN, cN, []);
    }

    private static void AssertClose(float[] expected, float[] actual, string what, double tolerance)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs((double)expected[k] - actual[k]) <= tolerance, $"{what}[{k}]: expected {expected[k]:R}, got {actual[k]:R}");
    }
}
