using SimdRnn.Cli;
using SimdRnn.Interop;
using SimdRnn.Tests.Interop;

namespace SimdRnn.Tests.Cli;

public class RunCommandTests
{
    [Theory]
    [InlineData("lstm_bi2.safetensors")]
    [InlineData("gru_head_sigmoid.safetensors")]
    [InlineData("rnn_relu_batchfirst.safetensors")]
    [InlineData("gru_lbr0_onebias.safetensors")]
    public void Run_writes_pytorchs_outputs(string fixture)
    {
        string path = Fixtures.Get("pytorch", fixture);
        string output = Path.Combine(Path.GetTempPath(), $"simdrnn-run-{Guid.NewGuid():N}.safetensors");
        try
        {
            // A fixture holds the state_dict and the inputs, so it serves as both files.
            RunModel.Run(new RunSettings { Model = path, Input = path, Output = output });
            var expected = SafetensorsFile.Load(path);
            var actual = SafetensorsFile.Load(output);
            foreach (var name in new[] { "y", "h_n", "c_n", "out" })
            {
                Assert.Equal(expected.Contains(name), actual.Contains(name));
                if (!expected.Contains(name)) continue;
                Assert.Equal(expected.GetInfo(name).Shape, actual.GetInfo(name).Shape);
                float[] e = expected.ReadFloat32(name), a = actual.ReadFloat32(name);
                for (int k = 0; k < e.Length; k++) Assert.True(Math.Abs(e[k] - a[k]) <= 1e-5, $"{name}[{k}]: {e[k]} vs {a[k]}");
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void A_mis_shaped_input_is_reported_with_its_shape()
    {
        string model = Fixtures.Get("pytorch", "gru_single.safetensors");
        string input = Path.Combine(Path.GetTempPath(), $"simdrnn-in-{Guid.NewGuid():N}.safetensors");
        try
        {
            new SafetensorsWriter().Add("x", new float[10], [5, 1, 2]).Save(input);
            var e = Assert.Throws<ModelFormatException>(() => RunModel.Run(new RunSettings { Model = model, Input = input, Output = input + ".out" }));
            Assert.Contains("tensor 'x' has shape [5, 1, 2], expected [T, B, 3]", e.Message);
        }
        finally
        {
            File.Delete(input);
        }
    }
}
