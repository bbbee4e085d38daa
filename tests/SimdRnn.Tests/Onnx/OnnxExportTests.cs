using Microsoft.ML.OnnxRuntime;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Onnx;
using SimdRnn.Tests.Interop;

namespace SimdRnn.Tests.Onnx;

/// <summary>
/// <see cref="OnnxExport"/> checked in ONNX Runtime: a random network exported in code gives the same y, h_n, c_n and
/// out in ORT as in SimdRnn, and the committed torch-exported fixtures reproduce PyTorch's outputs in ORT.
/// </summary>
public sealed class OnnxExportTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<CellKind, Nonlinearity, bool, BiasMode, bool> SingleLayerCases()
    {
        var data = new TheoryData<CellKind, Nonlinearity, bool, BiasMode, bool>();
        foreach (bool bidirectional in new[] { false, true })
            foreach (BiasMode bias in Enum.GetValues<BiasMode>())
            {
                data.Add(CellKind.Rnn, Nonlinearity.Tanh, bidirectional, bias, true);
                data.Add(CellKind.Rnn, Nonlinearity.Relu, bidirectional, bias, true);
                data.Add(CellKind.Gru, Nonlinearity.Tanh, bidirectional, bias, true);
                data.Add(CellKind.Gru, Nonlinearity.Tanh, bidirectional, bias, false);
                data.Add(CellKind.Lstm, Nonlinearity.Tanh, bidirectional, bias, true);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(SingleLayerCases))]
    public void Exported_single_layer_network_matches_SimdRnn_in_OnnxRuntime(CellKind cell, Nonlinearity nonlinearity, bool bidirectional, BiasMode bias, bool linearBeforeReset)
    {
        var spec = new RecurrentSpec(cell, 5, 7)
        {
            Bidirectional = bidirectional,
            Nonlinearity = nonlinearity,
            Bias = bias,
            LinearBeforeReset = linearBeforeReset,
        };
        AssertSameInOnnxRuntime(spec, steps: 6, batch: 3, seed: 11 + (int)cell * 7 + (int)bias);
    }

    public static TheoryData<CellKind, int, bool, bool, int, ReadoutActivation> StackedAndReadoutCases()
    {
        var data = new TheoryData<CellKind, int, bool, bool, int, ReadoutActivation>();
        foreach (CellKind cell in Enum.GetValues<CellKind>())
        {
            data.Add(cell, 2, false, false, 0, ReadoutActivation.None);
            data.Add(cell, 3, true, false, 0, ReadoutActivation.None);
            data.Add(cell, 1, false, true, 0, ReadoutActivation.None);
            data.Add(cell, 1, false, false, 2, ReadoutActivation.None);
            data.Add(cell, 2, true, true, 3, ReadoutActivation.Sigmoid);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(StackedAndReadoutCases))]
    public void Exported_stacked_batch_first_and_readout_networks_match_SimdRnn_in_OnnxRuntime(CellKind cell, int layers, bool bidirectional, bool batchFirst, int readout, ReadoutActivation activation)
    {
        var spec = new RecurrentSpec(cell, 4, 6)
        {
            Layers = layers,
            Bidirectional = bidirectional,
            BatchFirst = batchFirst,
            ReadoutSize = readout,
            ReadoutActivation = activation,
        };
        AssertSameInOnnxRuntime(spec, steps: 5, batch: 2, seed: 100 + layers * 10 + readout);
    }

    [Fact]
    public void Exported_model_has_the_declared_opset_ir_version_and_names()
    {
        var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(CellKind.Lstm, 3, 4) { ReadoutSize = 2 }, 1);
        var model = OnnxExport.BuildModel(network);
        Assert.Equal(8, model.IrVersion);
        Assert.Equal(14, Assert.Single(model.OpsetImport).Version);
        Assert.Equal(new[] { "x", "h0", "c0" }, model.Graph.Input.Select(v => v.Name));
        Assert.Equal(new[] { "y", "h_n", "c_n", "out" }, model.Graph.Output.Select(v => v.Name));
        var lstm = Assert.Single(model.Graph.Node, n => n.OpType == "LSTM");
        Assert.Equal(4, lstm.Attribute.Single(a => a.Name == "hidden_size").I);
    }

    [Fact]
    public void Save_writes_the_model_bytes()
    {
        var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(CellKind.Gru, 3, 4), 2);
        string path = Path.Combine(Path.GetTempPath(), $"simdrnn-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExport.Save(network, path);
            Assert.Equal(OnnxExport.ToModelBytes(network), File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static TheoryData<string> TorchExportedFixtures()
    {
        var data = new TheoryData<string>();
        foreach (string name in Fixtures.List("onnx", "*.onnx")) data.Add(Path.GetFileNameWithoutExtension(name));
        return data;
    }

    [Theory]
    [MemberData(nameof(TorchExportedFixtures))]
    public void Torch_exported_fixture_reproduces_PyTorch_outputs_in_OnnxRuntime(string name)
    {
        var file = SafetensorsFile.Load(Fixtures.Get("pytorch", name + ".safetensors"));
        byte[] model = File.ReadAllBytes(Fixtures.Get("onnx", name + ".onnx"));
        var outputs = RunOnnxRuntime(model, file, out var inputNames);
        Assert.Contains("x", inputNames);
        Assert.NotEmpty(outputs);
        foreach (var (outputName, actual) in outputs)
            AssertClose(file.ReadFloat32(outputName), actual, $"{name}: {outputName}");
    }

    public static TheoryData<string> PyTorchFixtures()
    {
        var data = new TheoryData<string>();
        foreach (string name in Fixtures.List("pytorch", "*.safetensors"))
            if (name != "dtypes.safetensors") data.Add(Path.GetFileNameWithoutExtension(name));
        return data;
    }

    [Theory]
    [MemberData(nameof(PyTorchFixtures))]
    public void Fixture_network_exported_by_SimdRnn_reproduces_PyTorch_outputs_in_OnnxRuntime(string name)
    {
        var file = SafetensorsFile.Load(Fixtures.Get("pytorch", name + ".safetensors"));
        var network = PyTorchModel.Load(file);
        var outputs = RunOnnxRuntime(OnnxExport.ToModelBytes(network), file, out _);
        Assert.Equal(network.Spec.HasCellState ? (network.Spec.ReadoutSize > 0 ? 4 : 3) : (network.Spec.ReadoutSize > 0 ? 3 : 2), outputs.Count);
        foreach (var (outputName, actual) in outputs)
            AssertClose(file.ReadFloat32(outputName), actual, $"{name}: {outputName}");
    }

    /// <summary>Runs a model in ORT on the file's x, h0 (c0); returns every model output by name.</summary>
    private static Dictionary<string, float[]> RunOnnxRuntime(byte[] model, SafetensorsFile file, out IReadOnlyList<string> inputNames)
    {
        using var session = new InferenceSession(model);
        inputNames = session.InputMetadata.Keys.ToList();
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach (string input in inputNames)
            {
                names.Add(input);
                values.Add(OrtValue.CreateTensorValueFromMemory(file.ReadFloat32(input), file.GetInfo(input).Shape.ToArray()));
            }
            var outputNames = session.OutputMetadata.Keys.ToList();
            using var results = session.Run(new RunOptions(), names, values, outputNames);
            return outputNames.Zip(results).ToDictionary(p => p.First, p => p.Second.GetTensorDataAsSpan<float>().ToArray());
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    private static void AssertSameInOnnxRuntime(RecurrentSpec spec, int steps, int batch, int seed)
    {
        var network = RecurrentNetwork.CreateRandom(spec, seed);
        var random = new Random(seed + 1);
        float[] Uniform(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        int stateLength = spec.Layers * spec.Directions * batch * spec.HiddenSize;
        float[] x = Uniform(steps * batch * spec.InputSize), h0 = Uniform(stateLength), c0 = Uniform(stateLength);

        // SimdRnn
        float[] output = new float[steps * batch * spec.OutputSize];
        float[] layerOutput = spec.ReadoutSize > 0 ? new float[steps * batch * spec.LayerOutputSize] : [];
        float[] hN = new float[stateLength], cN = spec.HasCellState ? new float[stateLength] : [];
        using (var session = network.CreateSession())
            session.Run(x, batch, output, h0, spec.HasCellState ? c0 : default, hN, cN, layerOutput);
        var expected = new Dictionary<string, float[]>
        {
            ["y"] = spec.ReadoutSize > 0 ? layerOutput : output,
            ["h_n"] = hN,
        };
        if (spec.HasCellState) expected["c_n"] = cN;
        if (spec.ReadoutSize > 0) expected["out"] = output;

        // ONNX Runtime
        using var ort = new InferenceSession(OnnxExport.ToModelBytes(network));
        long[] xShape = spec.BatchFirst ? [batch, steps, spec.InputSize] : [steps, batch, spec.InputSize];
        long[] stateShape = [spec.Layers * spec.Directions, batch, spec.HiddenSize];
        var inputNames = new List<string> { "x", "h0" };
        var inputs = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(x, xShape), OrtValue.CreateTensorValueFromMemory(h0, stateShape) };
        if (spec.HasCellState)
        {
            inputNames.Add("c0");
            inputs.Add(OrtValue.CreateTensorValueFromMemory(c0, stateShape));
        }
        try
        {
            var outputNames = ort.OutputMetadata.Keys.ToList();
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), outputNames.Order(StringComparer.Ordinal));
            using var results = ort.Run(new RunOptions(), inputNames, inputs, outputNames);
            foreach (var (name, value) in outputNames.Zip(results))
                AssertClose(expected[name], value.GetTensorDataAsSpan<float>().ToArray(), $"{spec}: {name}");
        }
        finally
        {
            foreach (var value in inputs) value.Dispose();
        }
    }

    /// <summary>|actual − expected| ≤ 1e-5 · max(1, |expected|) everywhere.</summary>
    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int k = 0; k < expected.Length; k++)
        {
            double error = Math.Abs((double)actual[k] - expected[k]);
            Assert.True(error <= Tolerance * Math.Max(1, Math.Abs(expected[k])),
                $"{what}: element {k}: ONNX Runtime {actual[k]:R}, expected {expected[k]:R}, error {error:E3}");
        }
    }
}
