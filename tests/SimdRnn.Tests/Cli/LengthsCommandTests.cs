using System.Text;
using SimdRnn.Cli;
using SimdRnn.Interop;
using SimdRnn.Tests.Interop;
using SimdRnn.Training;

namespace SimdRnn.Tests.Cli;

/// <summary><c>simdrnn run</c> and <c>simdrnn train</c> read an optional "lengths" tensor (I64 or I32, [B]).</summary>
public class LengthsCommandTests
{
    [Theory]
    [InlineData("gru_batchfirst_head_linear.safetensors")]
    [InlineData("lstm_bi2_h0_head.safetensors")]
    [InlineData("rnn_relu_single.safetensors")]
    public void Run_reads_lengths_and_writes_pytorchs_packed_outputs(string fixture)
    {
        // A lengths fixture holds the state_dict, x, lengths (I64) and h0, so it serves as model and input.
        string path = Fixtures.Get("lengths", fixture);
        string output = Path.Combine(Path.GetTempPath(), $"simdrnn-run-{Guid.NewGuid():N}.safetensors");
        try
        {
            RunModel.Run(new RunSettings { Model = path, Input = path, Output = output });
            var expected = SafetensorsFile.Load(path);
            var actual = SafetensorsFile.Load(output);
            foreach (var name in new[] { "y", "h_n", "c_n", "out" })
            {
                Assert.Equal(expected.Contains(name), actual.Contains(name));
                if (!expected.Contains(name)) continue;
                float[] e = expected.ReadFloat32(name), a = actual.ReadFloat32(name);
                // 1e-5 absolute as the library's parity tests; the readout is exactly zero at padded positions.
                for (int k = 0; k < e.Length; k++)
                {
                    Assert.True(Math.Abs(e[k] - a[k]) <= 1e-5, $"{name}[{k}]: {e[k]} vs {a[k]}");
                    if (e[k] == 0) Assert.Equal(0f, a[k]);
                }
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    /// <summary>A safetensors file with float tensors and one integer tensor, written by hand (the writer writes floats).</summary>
    private static byte[] WithIntegerTensor(SafetensorsWriter floats, string name, string dtype, long[] values, long[] shape)
    {
        var source = SafetensorsFile.Parse(floats.ToArray());
        var header = new StringBuilder("{");
        var data = new MemoryStream();
        foreach (var info in source.Tensors)
        {
            byte[] bytes = source.GetBytes(info.Name).ToArray();
            header.Append($"\"{info.Name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", info.Shape)}],\"data_offsets\":[{data.Length},{data.Length + bytes.Length}]}},");
            data.Write(bytes);
        }
        long begin = data.Length;
        foreach (long v in values)
        {
            if (dtype == "I64") data.Write(BitConverter.GetBytes(v));
            else if (dtype == "I32") data.Write(BitConverter.GetBytes((int)v));
            else data.Write(BitConverter.GetBytes((float)v));
        }
        header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{data.Length}]}}}}");
        while (header.Length % 8 != 0) header.Append(' ');
        var file = new MemoryStream();
        file.Write(BitConverter.GetBytes((ulong)header.Length));
        file.Write(Encoding.UTF8.GetBytes(header.ToString()));
        file.Write(data.ToArray());
        return file.ToArray();
    }

    [Theory]
    [InlineData("F32", new long[] { 2, 3 }, new long[] { 2 }, "integer tensor")]
    [InlineData("I64", new long[] { 0, 3 }, new long[] { 2 }, "'lengths'[0] = 0")]
    [InlineData("I32", new long[] { 2, 6 }, new long[] { 2 }, "'lengths'[1] = 6")]
    [InlineData("I64", new long[] { 2, 3, 1 }, new long[] { 3 }, "expected [2]")]
    public void Bad_lengths_are_reported_naming_the_tensor(string dtype, long[] values, long[] shape, string message)
    {
        string model = Fixtures.Get("pytorch", "gru_head_sigmoid.safetensors");
        string input = Path.Combine(Path.GetTempPath(), $"simdrnn-in-{Guid.NewGuid():N}.safetensors");
        try
        {
            var floats = new SafetensorsWriter().Add("x", new float[5 * 2 * 3], [5, 2, 3]).Add("target", new float[5 * 2 * 2], [5, 2, 2]);
            File.WriteAllBytes(input, WithIntegerTensor(floats, "lengths", dtype, values, shape));
            var e = Assert.Throws<ModelFormatException>(() => RunModel.Run(new RunSettings { Model = model, Input = input, Output = input + ".out" }));
            Assert.Contains(message, e.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(input + ".out"));
            e = Assert.Throws<ModelFormatException>(() => TrainModel.Run(new TrainSettings { Model = model, Data = input, Output = input + ".model", Epochs = 1 }));
            Assert.Contains(message, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(input);
        }
    }

    [Fact]
    public void Train_counts_valid_steps_only()
    {
        // Training with lengths equals training the trainer directly with the same lengths; NaN targets at padded
        // positions change nothing.
        string model = Fixtures.Get("pytorch", "gru_head_sigmoid.safetensors");
        string data = Path.Combine(Path.GetTempPath(), $"simdrnn-data-{Guid.NewGuid():N}.safetensors");
        try
        {
            var random = new Random(4);
            float[] x = Enumerable.Range(0, 5 * 2 * 3).Select(_ => (float)random.NextDouble()).ToArray();
            float[] target = Enumerable.Range(0, 5 * 2 * 2).Select(_ => (float)random.NextDouble()).ToArray();
            for (int t = 2; t < 5; t++) target.AsSpan((t * 2 + 1) * 2, 2).Fill(float.NaN); // row 1 is 2 long
            File.WriteAllBytes(data, WithIntegerTensor(new SafetensorsWriter().Add("x", x, [5, 2, 3]).Add("target", target, [5, 2, 2]), "lengths", "I64", [5, 2], [2]));
            var result = TrainModel.Run(new TrainSettings { Model = model, Data = data, Output = data + ".model.safetensors", Epochs = 3, Reduction = LossReduction.Mean });
            Assert.All(result.Losses, l => Assert.True(double.IsFinite(l)));
            Assert.Equal(0, result.SkippedUpdates);

            using var trainer = new RecurrentTrainer(PyTorchModel.Load(model), new TrainerOptions { Reduction = LossReduction.Mean });
            for (int epoch = 0; epoch < 3; epoch++)
                Assert.Equal(result.Losses[epoch], trainer.TrainStep(x, 2, new[] { 5, 2 }, target).Loss);
        }
        finally
        {
            File.Delete(data);
            File.Delete(data + ".model.safetensors");
        }
    }
}
