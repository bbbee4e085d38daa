using System.Globalization;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Tests.Interop;
using SimdRnn.Tests.Support;
using SimdRnn.Training;
using Xunit.Abstractions;

namespace SimdRnn.Tests.Networks;

/// <summary>
/// Every number SimdRnn produces for a PyTorch model matches PyTorch: the committed fixtures (made by
/// tools/pytorch/make_fixtures.py with torch 1.13) hold PyTorch's outputs, final states and autograd gradients.
/// </summary>
public class PyTorchParityTests(ITestOutputHelper log)
{
    // Outputs and states: 1e-5 absolute. Values are O(1) (tanh/sigmoid ranges, relu of O(1) inputs); float32 rounding
    // and the activations' 3e-7 bound accumulate over ≤ 5 steps and ≤ 2 layers to a few 1e-7.
    private const double OutputTolerance = 1e-5;

    // Gradients: 1e-4 relative to each tensor's largest element (element-wise relative error is meaningless for
    // gradient elements that cancel to near zero).
    private const double GradientTolerance = 1e-4;

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in FixtureNames()) data.Add(name);
        return data;
    }

    /// <summary>The model fixtures (dtypes.safetensors holds only dtype samples).</summary>
    private static IEnumerable<string> FixtureNames() => Fixtures.List("pytorch", "*.safetensors").Where(name => name != "dtypes.safetensors");

    private static float[]? Optional(SafetensorsFile file, string name) => file.Contains(name) ? file.ReadFloat32(name) : null;

    /// <summary>SimdRnn's sequence run of the fixture's x (and h0, c0), keyed by the fixture's names: y, out, h_n, c_n.</summary>
    private static List<(string Name, float[] Values)> Outputs(SafetensorsFile file, RecurrentNetwork network)
    {
        var spec = network.Spec;
        int batch = int.Parse(file.Metadata["batch"], CultureInfo.InvariantCulture);
        int steps = int.Parse(file.Metadata["seq_len"], CultureInfo.InvariantCulture);
        var output = new float[steps * batch * spec.OutputSize];
        var layerOutput = spec.ReadoutSize > 0 ? new float[steps * batch * spec.LayerOutputSize] : null;
        var hN = new float[spec.Layers * spec.Directions * batch * spec.HiddenSize];
        var cN = spec.HasCellState ? new float[hN.Length] : null;
        using (var session = network.CreateSession())
            session.Run(file.ReadFloat32("x"), batch, output, Optional(file, "h0"), Optional(file, "c0"), hN, cN, layerOutput);
        var results = new List<(string, float[])> { ("y", layerOutput ?? output), ("h_n", hN) };
        if (spec.ReadoutSize > 0) results.Add(("out", output));
        if (cN is not null) results.Add(("c_n", cN));
        return results;
    }

    /// <summary>
    /// SimdRnn's exact BPTT of L = Σ y·dy + Σ h_n·dh_n + Σ c_n·dc_n + Σ out·dout with the fixture's upstream gradients,
    /// keyed by the fixture's names: grad.rnn.* / grad.head.*, grad.x, and grad.h0 / grad.c0 where it has them.
    /// </summary>
    private static List<(string Name, float[] Values)> Gradients(SafetensorsFile file, RecurrentNetwork network)
    {
        var spec = network.Spec;
        int batch = int.Parse(file.Metadata["batch"], CultureInfo.InvariantCulture);
        using var trainer = new RecurrentTrainer(network);
        trainer.Forward(file.ReadFloat32("x"), batch, Optional(file, "h0"), Optional(file, "c0"));
        float[] dy = file.ReadFloat32("dy");
        if (spec.ReadoutSize > 0) trainer.Backward(file.ReadFloat32("dout"), dy, file.ReadFloat32("dh_n"), Optional(file, "dc_n"));
        else trainer.Backward(dy, default, file.ReadFloat32("dh_n"), Optional(file, "dc_n"));
        var results = new List<(string, float[])>();
        foreach (var slot in network.Tensors)
            results.Add(("grad." + (slot.Name.StartsWith("head.", StringComparison.Ordinal) ? slot.Name : "rnn." + slot.Name), trainer.Gradient(slot.Name).ToArray()));
        results.Add(("grad.x", trainer.InputGradient.ToArray()));
        if (file.Contains("grad.h0")) results.Add(("grad.h0", trainer.InitialHiddenGradient.ToArray()));
        if (file.Contains("grad.c0")) results.Add(("grad.c0", trainer.InitialCellGradient.ToArray()));
        return results;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Outputs_and_final_states_match_pytorch(string fixture)
    {
        var file = SafetensorsFile.Load(Fixtures.Get("pytorch", fixture));
        var network = PyTorchModel.Load(file);
        Assert.Equal(file.Metadata["cell"], network.Spec.Cell.ToString().ToLowerInvariant());

        foreach (var (name, actual) in Outputs(file, network))
            AssertClose(file.ReadFloat32(name), actual, name);

        static void AssertClose(float[] expected, float[] actual, string name)
        {
            Assert.Equal(expected.Length, actual.Length);
            for (int k = 0; k < expected.Length; k++)
                Assert.True(Math.Abs(expected[k] - actual[k]) <= OutputTolerance, $"{name}[{k}]: PyTorch {expected[k]:R}, SimdRnn {actual[k]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_match_pytorch_autograd(string fixture)
    {
        var file = SafetensorsFile.Load(Fixtures.Get("pytorch", fixture));
        foreach (var (name, actual) in Gradients(file, PyTorchModel.Load(file)))
            Check(actual, name);

        void Check(ReadOnlySpan<float> actual, string name)
        {
            double[] expected = Array.ConvertAll(file.ReadFloat32(name), v => (double)v);
            string? failure = Compare.NormRelative(actual, expected, GradientTolerance, name);
            Assert.True(failure is null, $"{fixture}: {failure}");
        }
    }

    /// <summary>
    /// The worst errors over all fixtures, printed (run with <c>--logger "console;verbosity=detailed"</c>) for
    /// docs/accuracy.md: outputs and states in absolute terms, gradients relative to each tensor's largest element.
    /// </summary>
    [Fact]
    public void Worst_errors_over_all_fixtures()
    {
        double worstOutput = 0, worstGradient = 0;
        string whereOutput = "", whereGradient = "";
        foreach (string fixture in FixtureNames())
        {
            var file = SafetensorsFile.Load(Fixtures.Get("pytorch", fixture));
            var network = PyTorchModel.Load(file);
            foreach (var (name, actual) in Outputs(file, network))
            {
                float[] expected = file.ReadFloat32(name);
                for (int k = 0; k < expected.Length; k++)
                    if (Math.Abs(expected[k] - actual[k]) > worstOutput) { worstOutput = Math.Abs(expected[k] - actual[k]); whereOutput = $"{fixture} {name}[{k}]"; }
            }
            foreach (var (name, actual) in Gradients(file, network))
            {
                float[] expected = file.ReadFloat32(name);
                double scale = 0, error = 0;
                for (int k = 0; k < expected.Length; k++)
                {
                    scale = Math.Max(scale, Math.Abs(expected[k]));
                    error = Math.Max(error, Math.Abs(expected[k] - actual[k]));
                }
                if (scale > 0 && error / scale > worstGradient) { worstGradient = error / scale; whereGradient = $"{fixture} {name}"; }
            }
        }
        log.WriteLine($"outputs and states: max abs error {worstOutput:E2} ({whereOutput}); gradients: max error {worstGradient:E2} of the tensor's largest element ({whereGradient}); Vector<float>.Count = {System.Numerics.Vector<float>.Count}");
        Assert.True(worstOutput <= OutputTolerance);
        Assert.True(worstGradient <= GradientTolerance);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Saving_and_reloading_is_bit_exact_and_keeps_pytorch_names(string fixture)
    {
        var file = SafetensorsFile.Load(Fixtures.Get("pytorch", fixture));
        var network = PyTorchModel.Load(file);
        string path = Path.Combine(Path.GetTempPath(), $"simdrnn-{Guid.NewGuid():N}.safetensors");
        try
        {
            PyTorchModel.Save(network, path);
            var saved = SafetensorsFile.Load(path);
            foreach (var name in saved.Names)
                Assert.True(file.Contains(name), $"{name} is not a name of the PyTorch state_dict");
            var reloaded = PyTorchModel.Load(saved);
            Assert.Equal(network.Spec, reloaded.Spec);
            Assert.True(network.Parameters.SequenceEqual(reloaded.Parameters));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_or_misshaped_tensor_is_named_with_expected_and_actual_shapes()
    {
        var file = SafetensorsFile.Load(Fixtures.Get("pytorch", "lstm_bi2.safetensors"));
        var writer = new SafetensorsWriter();
        foreach (var info in file.Tensors)
        {
            if (info.Name == "rnn.weight_hh_l1_reverse") continue;
            int[] shape = info.Name == "rnn.bias_ih_l1" ? [3] : info.GetShapeInt32();
            float[] data = info.Name == "rnn.bias_ih_l1" ? new float[3] : file.ReadFloat32(info.Name);
            writer.Add(info.Name, data, shape);
        }
        var broken = SafetensorsFile.Parse(writer.ToArray());
        var e = Assert.Throws<ModelFormatException>(() => PyTorchModel.Load(broken));
        // The first problem in PyTorch's order: bias_ih_l1 comes before weight_hh_l1_reverse.
        Assert.Contains("'rnn.bias_ih_l1' has shape [3], expected [28]", e.Message);

        writer = new SafetensorsWriter();
        foreach (var info in file.Tensors)
            if (info.Name != "rnn.weight_hh_l1_reverse") writer.Add(info.Name, file.ReadFloat32(info.Name), info.GetShapeInt32());
        e = Assert.Throws<ModelFormatException>(() => PyTorchModel.Load(SafetensorsFile.Parse(writer.ToArray())));
        Assert.Contains("'rnn.weight_hh_l1_reverse' is missing (expected shape [28, 7])", e.Message);

        writer = new SafetensorsWriter();
        foreach (var info in file.Tensors) writer.Add(info.Name, file.ReadFloat32(info.Name), info.GetShapeInt32());
        writer.Add("rnn.weight_ih_l7_extra", new float[2], [2]);
        e = Assert.Throws<ModelFormatException>(() => PyTorchModel.Load(SafetensorsFile.Parse(writer.ToArray())));
        Assert.Contains("'rnn.weight_ih_l7_extra' is not part of", e.Message);
    }
}
