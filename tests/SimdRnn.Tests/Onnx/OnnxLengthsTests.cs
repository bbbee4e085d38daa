using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Onnx;
using SimdRnn.Onnx.Protos;
using SimdRnn.Tests.Interop;
using SimdRnn.Tests.Lengths;

namespace SimdRnn.Tests.Onnx;

/// <summary>
/// ONNX's own backend node tests for RNN, GRU and LSTM (tests/fixtures/onnx-node, made by the onnx package's case
/// generators: tools/pytorch/make_onnx_node_fixtures.py), torch.onnx exports with dynamic_axes, batch_first and
/// packed sequences run at another T and B than exported (tests/fixtures/onnx-dynamic), and OnnxExport's
/// sequence_lens checked in ONNX Runtime.
/// </summary>
public class OnnxLengthsTests
{
    // 1e-5 absolute: O(1) values over ≤ 7 steps in float32 (the node tests' own references are numpy float32).
    private const double Tolerance = 1e-5;

    public static TheoryData<string> NodeCases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Path.Combine(Fixtures.Root, "onnx-node")).Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(dir));
        return data;
    }

    /// <summary>Node tests refused on purpose, with the words the refusal must contain (docs/onnx.md says why).</summary>
    private static readonly Dictionary<string, string> Refused = new(StringComparer.Ordinal)
    {
        ["test_lstm_with_peepholes"] = "peephole input P",
    };

    private static TensorProto ReadTensor(string path) => TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));

    private static float[] Floats(TensorProto t) =>
        t.RawData.Length > 0 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : [.. t.FloatData];

    private static int[] Ints(TensorProto t)
    {
        if (t.RawData.Length == 0) return t.DataType == (int)TensorProto.Types.DataType.Int64 ? [.. t.Int64Data.Select(v => checked((int)v))] : [.. t.Int32Data];
        return t.DataType == (int)TensorProto.Types.DataType.Int64
            ? [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray().Select(v => checked((int)v))]
            : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(t.RawData.Span).ToArray();
    }

    /// <summary>[P, Q, W] → [Q, P, W].</summary>
    private static float[] Swap(float[] source, int p, int q, int w)
    {
        var result = new float[source.Length];
        for (int i = 0; i < p; i++)
            for (int j = 0; j < q; j++)
                source.AsSpan((i * q + j) * w, w).CopyTo(result.AsSpan((j * p + i) * w, w));
        return result;
    }

    [Theory]
    [MemberData(nameof(NodeCases))]
    public void Onnx_backend_node_tests_pass_or_are_refused_by_name(string name)
    {
        string dir = Path.Combine(Fixtures.Root, "onnx-node", name);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "model.onnx")));
        var node = model.Graph.Node.Single();
        var inputs = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        for (int k = 0; k < model.Graph.Input.Count; k++)
            inputs[model.Graph.Input[k].Name] = ReadTensor(Path.Combine(dir, "test_data_set_0", $"input_{k}.pb"));
        // The weights (W, R, B, P) are graph inputs in a node test; a model file holds them as initializers.
        foreach (int slot in new[] { 1, 2, 3, 7 })
        {
            if (slot >= node.Input.Count || node.Input[slot].Length == 0) continue;
            string weight = node.Input[slot];
            var tensor = inputs[weight].Clone();
            tensor.Name = weight;
            model.Graph.Initializer.Add(tensor);
            model.Graph.Input.Remove(model.Graph.Input.Single(v => v.Name == weight));
        }
        if (Refused.TryGetValue(name, out string? reason))
        {
            var e = Assert.Throws<ModelFormatException>(() => OnnxImport.Load(model.ToByteArray()));
            Assert.Contains(reason, e.Message, StringComparison.Ordinal);
            return;
        }
        var network = OnnxImport.Load(model.ToByteArray());
        var spec = network.Spec;
        bool layout1 = node.Attribute.Any(a => a.Name == "layout" && a.I == 1);
        Assert.Equal(layout1, spec.BatchFirst);
        var x = inputs[node.Input[0]];
        int steps = (int)x.Dims[layout1 ? 1 : 0], batch = (int)x.Dims[layout1 ? 0 : 1], d = spec.Directions, h = spec.HiddenSize;
        int[] lengths = node.Input.Count > 4 && node.Input[4].Length > 0 ? Ints(inputs[node.Input[4]]) : [];
        float[]? State(int slot) => node.Input.Count > slot && node.Input[slot].Length > 0
            ? layout1 ? Swap(Floats(inputs[node.Input[slot]]), batch, d, h) : Floats(inputs[node.Input[slot]]) : null;

        var output = new float[steps * batch * spec.OutputSize];
        var hN = new float[d * batch * h];
        var cN = spec.HasCellState ? new float[hN.Length] : null;
        using (var session = network.CreateSession())
            session.Run(Floats(x), batch, lengths, output, State(5), State(6), hN, cN);

        for (int k = 0; k < node.Output.Count; k++)
        {
            if (node.Output[k].Length == 0) continue;
            int index = model.Graph.Output.Select(v => v.Name).ToList().IndexOf(node.Output[k]);
            float[] expected = Floats(ReadTensor(Path.Combine(dir, "test_data_set_0", $"output_{index}.pb")));
            float[] actual = k switch
            {
                // Y: layout 0 [T, D, B, H] (SimdRnn [T, B, D·H]); layout 1 [B, T, D, H] = SimdRnn's batch-first [B, T, D·H].
                0 => layout1 ? output : TimeMajorY(output, steps, batch, d, h),
                // Y_h, Y_c: layout 0 [D, B, H]; layout 1 [B, D, H].
                1 => layout1 ? Swap(hN, d, batch, h) : hN,
                _ => layout1 ? Swap(cN!, d, batch, h) : cN!,
            };
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"{name} {node.Output[k]}[{i}]: ONNX {expected[i]:R}, SimdRnn {actual[i]:R}");
        }
    }

    private static float[] TimeMajorY(float[] y, int steps, int batch, int d, int h)
    {
        var result = new float[y.Length];
        for (int t = 0; t < steps; t++)
            result.AsSpan(t * batch * d * h, batch * d * h).SetFrom(Swap(y.AsSpan(t * batch * d * h, batch * d * h).ToArray(), batch, d, h));
        return result;
    }

    public static TheoryData<string> DynamicCases()
    {
        var data = new TheoryData<string>();
        foreach (var name in Fixtures.List("onnx-dynamic", "*.onnx")) data.Add(Path.GetFileNameWithoutExtension(name));
        return data;
    }

    [Theory]
    [MemberData(nameof(DynamicCases))]
    public void Torch_exports_with_dynamic_axes_run_at_another_length_and_batch(string name)
    {
        var network = OnnxImport.Load(Fixtures.Get("onnx-dynamic", name + ".onnx"));
        var file = SafetensorsFile.Load(Fixtures.Get("onnx-dynamic", name + ".safetensors"));
        var spec = network.Spec;
        var xInfo = file.GetInfo("x");
        int steps = (int)xInfo.Shape[spec.BatchFirst ? 1 : 0], batch = (int)xInfo.Shape[spec.BatchFirst ? 0 : 1];
        int[] lengths = file.Contains("lengths") ? LengthsTests.ReadLengths(file) : [];
        var output = new float[steps * batch * spec.OutputSize];
        var hN = new float[spec.Layers * spec.Directions * batch * spec.HiddenSize];
        using (var session = network.CreateSession())
            session.Run(file.ReadFloat32("x"), batch, lengths, output, finalHidden: hN);
        Check(spec.ReadoutSize > 0 ? "out" : "y", output);
        if (file.Contains("h_n")) Check("h_n", hN);

        void Check(string tensor, float[] actual)
        {
            float[] expected = file.ReadFloat32(tensor);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"{name} {tensor}[{i}]: PyTorch {expected[i]:R}, SimdRnn {actual[i]:R}");
        }
    }

    [Theory]
    [InlineData(CellKind.Rnn, false)]
    [InlineData(CellKind.Gru, true)]
    [InlineData(CellKind.Lstm, true)]
    [InlineData(CellKind.Lstm, false)]
    public void Export_with_sequence_lens_runs_the_same_in_onnx_runtime_and_imports_back(CellKind cell, bool batchFirst)
    {
        var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(cell, 3, 4) { Layers = 2, Bidirectional = true, BatchFirst = batchFirst }, 11);
        var spec = network.Spec;
        int steps = 5, batch = 4, states = spec.Layers * spec.Directions * batch * spec.HiddenSize;
        int[] lengths = [3, 5, 1, 4];
        var random = new Random(12);
        float[] x = Enumerable.Range(0, steps * batch * 3).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] h0 = Enumerable.Range(0, states).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        float[] y = new float[steps * batch * spec.OutputSize], hN = new float[states];
        using (var session = network.CreateSession())
            session.Run(x, batch, lengths, y, h0, spec.HasCellState ? h0 : default, hN);

        byte[] bytes = OnnxExport.ToModelBytes(network, sequenceLengths: true);
        using var ort = new InferenceSession(bytes);
        long[] xShape = batchFirst ? [batch, steps, 3] : [steps, batch, 3];
        long[] stateShape = [spec.Layers * spec.Directions, batch, spec.HiddenSize];
        var names = new List<string> { "x", "h0", "lengths" };
        var values = new List<OrtValue>
        {
            OrtValue.CreateTensorValueFromMemory(x, xShape), OrtValue.CreateTensorValueFromMemory(h0, stateShape),
            OrtValue.CreateTensorValueFromMemory(lengths, [batch]),
        };
        if (spec.HasCellState)
        {
            names.Add("c0");
            values.Add(OrtValue.CreateTensorValueFromMemory(h0, stateShape));
        }
        try
        {
            using var results = ort.Run(new RunOptions(), names, values, ["y", "h_n"]);
            float[] ortY = results[0].GetTensorDataAsSpan<float>().ToArray(), ortH = results[1].GetTensorDataAsSpan<float>().ToArray();
            for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - ortY[i]) <= Tolerance, $"y[{i}]: ORT {ortY[i]:R}, SimdRnn {y[i]:R}");
            for (int i = 0; i < hN.Length; i++) Assert.True(Math.Abs(hN[i] - ortH[i]) <= Tolerance, $"h_n[{i}]: ORT {ortH[i]:R}, SimdRnn {hN[i]:R}");
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
        var back = OnnxImport.Load(bytes);
        Assert.Equal(spec, back.Spec);
        Assert.True(network.Parameters.SequenceEqual(back.Parameters));
    }
}

internal static class SpanExtensions
{
    public static void SetFrom(this Span<float> destination, float[] source) => source.CopyTo(destination);
}
