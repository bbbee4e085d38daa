using SimdRnn.Cli;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Onnx;
using SimdRnn.Tests.Interop;

namespace SimdRnn.Tests.Cli;

/// <summary>The CLI's run, inspect and train accept .onnx models (through <see cref="ModelFiles"/>).</summary>
public sealed class OnnxCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("simdrnn-onnxcli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("lstm_bi2")]
    [InlineData("gru_head_sigmoid")]
    [InlineData("rnn_relu_batchfirst")]
    [InlineData("lstm_head_linear")]
    public void Run_with_an_onnx_model_writes_pytorchs_outputs(string name)
    {
        string inputs = Fixtures.Get("pytorch", name + ".safetensors");
        string output = Path.Combine(_folder, name + ".out.safetensors");
        var (network, _, _) = RunModel.Run(new RunSettings { Model = Fixtures.Get("onnx", name + ".onnx"), Input = inputs, Output = output });
        Assert.Equal(BiasMode.Pair, network.Spec.Bias);
        var expected = SafetensorsFile.Load(inputs);
        var actual = SafetensorsFile.Load(output);
        foreach (var tensor in new[] { "y", "h_n", "c_n", "out" })
        {
            Assert.Equal(expected.Contains(tensor), actual.Contains(tensor));
            if (!expected.Contains(tensor)) continue;
            Assert.Equal(expected.GetInfo(tensor).Shape, actual.GetInfo(tensor).Shape);
            float[] e = expected.ReadFloat32(tensor), a = actual.ReadFloat32(tensor);
            for (int k = 0; k < e.Length; k++) Assert.True(Math.Abs(e[k] - a[k]) <= 1e-5, $"{name}: {tensor}[{k}]: {e[k]} vs {a[k]}");
        }
    }

    [Fact]
    public void Run_refuses_an_override_that_contradicts_the_graph()
    {
        string model = Fixtures.Get("onnx", "gru_single.onnx");
        var e = Assert.Throws<ModelFormatException>(() => RunModel.Run(new RunSettings { Model = model, Input = model, Output = Path.Combine(_folder, "x"), BatchFirst = true }));
        Assert.Contains("fixes the layout", e.Message);
    }

    [Fact]
    public void Inspect_prints_the_architecture_nodes_and_initializers_of_an_onnx_model()
    {
        using var writer = new StringWriter();
        var network = InspectModel.Run(Fixtures.Get("onnx", "lstm_bi2.onnx"), writer);
        string text = writer.ToString();
        Assert.Equal(CellKind.Lstm, network.Spec.Cell);
        Assert.Contains("cell        Lstm", text);
        Assert.Contains("layers      2, bidirectional", text);
        Assert.Contains("producer    pytorch", text);
        Assert.Contains("nodes", text);
        Assert.Contains("LSTM       /model/rnn/LSTM_1 (", text);
        Assert.Contains("Slice      /model/rnn/Slice (h0, ", text);
        Assert.Contains("Concat     /model/rnn/Concat (", text);
        Assert.Contains("initializers", text);
        Assert.Contains("Float [2, 28, 5]", text);
        Assert.Contains("inputs      x, h0, c0", text);
    }

    [Fact]
    public void Train_from_an_onnx_model_takes_pytorchs_steps_and_saves_safetensors_with_the_rnn_prefix()
    {
        // The training fixture's initial model, exported to ONNX by SimdRnn, then trained from the .onnx.
        string fixture = Fixtures.Get("training", "gru_bce_sum_sgd.safetensors");
        string onnx = Path.Combine(_folder, "initial.onnx");
        OnnxExport.Save(PyTorchModel.Load(fixture), onnx);
        var settings = new TrainSettings { Model = onnx, Data = fixture, Output = Path.Combine(_folder, "trained.safetensors"), Epochs = 5 };
        var result = TrainModel.Run(settings);
        var expected = SafetensorsFile.Load(fixture);
        float[] pytorch = expected.ReadFloat32("losses");
        for (int k = 0; k < 5; k++) Assert.Equal(pytorch[k], result.Losses[k], 1e-5 * pytorch[k]);

        var saved = SafetensorsFile.Load(settings.Output);
        Assert.Contains("rnn.weight_ih_l0", saved.Names);
        Assert.Contains("rnn.bias_hh_l0", saved.Names);
        Assert.Contains("head.weight", saved.Names);
        float[] final = expected.ReadFloat32("final.rnn.weight_hh_l0"), actual = saved.ReadFloat32("rnn.weight_hh_l0");
        for (int k = 0; k < final.Length; k++) Assert.True(Math.Abs(final[k] - actual[k]) <= 1e-5);

        // An .onnx output name writes ONNX, which imports back to the trained network.
        string onnxOut = Path.Combine(_folder, "trained.onnx");
        var again = TrainModel.Run(settings with { Output = onnxOut, Epochs = 1 });
        var reloaded = OnnxImport.Load(onnxOut);
        Assert.True(again.Network.Parameters.SequenceEqual(reloaded.Parameters));
    }
}
