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
        foreach (var name in Fixtures.List("pytorch", "*.safetensors"))
            if (name != "dtypes.safetensors") data.Add(name);
        return data;
    }

    private static float[]? Optional(SafetensorsFile file, string name) => file.Contains(name) ? file.ReadFloat32(name) : null;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Outputs_and_final_states_match_pytorch(string fixture)
    {
        var file = SafetensorsFile.Load(Fixtures.Get("pytorch", fixture));
        var network = PyTorchModel.Load(file);
        var spec = network.Spec;
        int batch = int.Parse(file.Metadata["batch"], CultureInfo.InvariantCulture);
        int steps = int.Parse(file.Metadata["seq_len"], CultureInfo.InvariantCulture);
        Assert.Equal(file.Metadata["cell"], spec.Cell.ToString().ToLowerInvariant());

        float[] x = file.ReadFloat32("x");
        float[]? h0 = Optional(file, "h0"), c0 = Optional(file, "c0");
        var output = new float[steps * batch * spec.OutputSize];
        var layerOutput = spec.ReadoutSize > 0 ? new float[steps * batch * spec.LayerOutputSize] : null;
        var hN = new float[spec.Layers * spec.Directions * batch * spec.HiddenSize];
        var cN = spec.HasCellState ? new float[hN.Length] : null;
        using var session = network.CreateSession();
        session.Run(x, batch, output, h0, c0, hN, cN, layerOutput);

        AssertClose(file.ReadFloat32("y"), layerOutput ?? output, "y");
        if (spec.ReadoutSize > 0) AssertClose(file.ReadFloat32("out"), output, "out");
        AssertClose(file.ReadFloat32("h_n"), hN, "h_n");
        if (cN is not null) AssertClose(file.ReadFloat32("c_n"), cN, "c_n");

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
        var network = PyTorchModel.Load(file);
        var spec = network.Spec;
        int batch = int.Parse(file.Metadata["batch"], CultureInfo.InvariantCulture);
        float[]? h0 = Optional(file, "h0"), c0 = Optional(file, "c0");
        using var trainer = new RecurrentTrainer(network);
        trainer.Forward(file.ReadFloat32("x"), batch, h0, c0);
        // L = Σ y·dy + Σ h_n·dh_n + Σ c_n·dc_n + Σ out·dout
        float[] dy = file.ReadFloat32("dy");
        if (spec.ReadoutSize > 0) trainer.Backward(file.ReadFloat32("dout"), dy, file.ReadFloat32("dh_n"), Optional(file, "dc_n"));
        else trainer.Backward(dy, default, file.ReadFloat32("dh_n"), Optional(file, "dc_n"));

        foreach (var slot in network.Tensors)
        {
            string stored = "grad." + (slot.Name.StartsWith("head.", StringComparison.Ordinal) ? slot.Name : "rnn." + slot.Name);
            Check(trainer.Gradient(slot.Name), stored);
        }
        Check(trainer.InputGradient, "grad.x");
        if (file.Contains("grad.h0")) Check(trainer.InitialHiddenGradient, "grad.h0");
        if (file.Contains("grad.c0")) Check(trainer.InitialCellGradient, "grad.c0");

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
        foreach (string fixture in Fixtures.List("pytorch", "*.safetensors").Where(name => name != "dtypes.safetensors"))
        {
            var file = SafetensorsFile.Load(Fixtures.Get("pytorch", fixture));
            var network = PyTorchModel.Load(file);
            var spec = network.Spec;
            int batch = int.Parse(file.Metadata["batch"], CultureInfo.InvariantCulture);
            int steps = int.Parse(file.Metadata["seq_len"], CultureInfo.InvariantCulture);
            float[] x = file.ReadFloat32("x");
            float[]? h0 = Optional(file, "h0"), c0 = Optional(file, "c0");
            var output = new float[steps * batch * spec.OutputSize];
            var layerOutput = spec.ReadoutSize > 0 ? new float[steps * batch * spec.LayerOutputSize] : null;
            var hN = new float[spec.Layers * spec.Directions * batch * spec.HiddenSize];
            var cN = spec.HasCellState ? new float[hN.Length] : null;
            using (var session = network.CreateSession()) session.Run(x, batch, output, h0, c0, hN, cN, layerOutput);
            Absolute("y", layerOutput ?? output);
            if (spec.ReadoutSize > 0) Absolute("out", output);
            Absolute("h_n", hN);
            if (cN is not null) Absolute("c_n", cN);

            using var trainer = new RecurrentTrainer(network);
            trainer.Forward(x, batch, h0, c0);
            float[] dy = file.ReadFloat32("dy");
            if (spec.ReadoutSize > 0) trainer.Backward(file.ReadFloat32("dout"), dy, file.ReadFloat32("dh_n"), Optional(file, "dc_n"));
            else trainer.Backward(dy, default, file.ReadFloat32("dh_n"), Optional(file, "dc_n"));
            foreach (var slot in network.Tensors)
                Relative("grad." + (slot.Name.StartsWith("head.", StringComparison.Ordinal) ? slot.Name : "rnn." + slot.Name), trainer.Gradient(slot.Name));
            Relative("grad.x", trainer.InputGradient);

            void Absolute(string name, float[] actual)
            {
                float[] expected = file.ReadFloat32(name);
                for (int k = 0; k < expected.Length; k++)
                    if (Math.Abs(expected[k] - actual[k]) > worstOutput) { worstOutput = Math.Abs(expected[k] - actual[k]); whereOutput = $"{fixture} {name}[{k}]"; }
            }

            void Relative(string name, ReadOnlySpan<float> actual)
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
