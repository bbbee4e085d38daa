using System.Text.Json;
using SimdRnn.Cli;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Tests.Interop;

namespace SimdRnn.Tests.Cli;

/// <summary><c>simdrnn run/bench/inspect --weights fp32|bf16|int8|int8-int16(|all)</c>.</summary>
public class WeightFormatCliTests
{
    private static string Temp(string tag) => Path.Combine(Path.GetTempPath(), $"simdrnn-{tag}-{Guid.NewGuid():N}.safetensors");

    /// <summary>The CLI's entry point with <paramref name="args"/>, as the tool runs it; its exit code.</summary>
    private static int Cli(params string[] args) => (int)typeof(RunModel).Assembly.EntryPoint!.Invoke(null, [args])!;

    [Theory]
    [InlineData("lstm_bi2.safetensors", WeightPrecision.BFloat16)]
    [InlineData("lstm_bi2.safetensors", WeightPrecision.Int8)]
    [InlineData("gru_head_sigmoid.safetensors", WeightPrecision.BFloat16)]
    [InlineData("gru_lbr0_onebias.safetensors", WeightPrecision.Int8)]
    [InlineData("gru_lbr0_onebias.safetensors", WeightPrecision.Int8WithInt16Activations)]
    [InlineData("lstm_bi2.safetensors", WeightPrecision.Int8WithInt16Activations)]
    [InlineData("rnn_relu_batchfirst.safetensors", WeightPrecision.Float32)]
    public void Run_with_weights_gives_the_library_outputs_of_that_format(string fixture, WeightPrecision precision)
    {
        string path = Fixtures.Get("pytorch", fixture), output = Temp("run-weights");
        try
        {
            var (network, batch, _) = RunModel.Run(new RunSettings { Model = path, Input = path, Output = output, Weights = precision });
            Assert.Equal(precision, network.WeightPrecision);
            var file = SafetensorsFile.Load(output);
            Assert.Equal(ModelFiles.WeightsName(precision), file.Metadata["weights"]);

            // The same bits the library gives for that format (the CLI adds nothing), and within the format's rounding
            // of PyTorch's fp32 outputs (recipe error ≪ 0.05 for these small models; docs/accuracy.md).
            var fixtureFile = SafetensorsFile.Load(path);
            float[] x = fixtureFile.ReadFloat32("x");
            var spec = network.Spec;
            int steps = x.Length / (batch * spec.InputSize);
            var expected = new float[steps * batch * spec.OutputSize];
            using (var session = PyTorchModel.Load(path).WithWeightFormat(precision).CreateSession())
                session.Run(x, batch, expected, fixtureFile.Contains("h0") ? fixtureFile.ReadFloat32("h0") : default,
                    fixtureFile.Contains("c0") ? fixtureFile.ReadFloat32("c0") : default);
            string name = spec.ReadoutSize > 0 ? "out" : "y";
            Assert.Equal(expected, file.ReadFloat32(name));
            float[] pytorch = fixtureFile.ReadFloat32(name);
            for (int k = 0; k < pytorch.Length; k++) Assert.True(Math.Abs(pytorch[k] - expected[k]) <= 0.05, $"{name}[{k}]");
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void The_command_line_takes_weights_and_refuses_unknown_formats()
    {
        string path = Fixtures.Get("pytorch", "gru_single.safetensors"), output = Temp("cli-weights");
        try
        {
            Assert.Equal(0, Cli("run", "--model", path, "--input", path, "--output", output, "--weights", "int8"));
            Assert.Equal("int8", SafetensorsFile.Load(output).Metadata["weights"]);
            Assert.Equal(0, Cli("run", "--model", path, "--input", path, "--output", output, "--weights", "int8-int16"));
            Assert.Equal("int8-int16", SafetensorsFile.Load(output).Metadata["weights"]);
            Assert.Equal(0, Cli("run", "--model", path, "--input", path, "--output", output, "--weights", "bf16"));
            Assert.Equal("bf16", SafetensorsFile.Load(output).Metadata["weights"]);
            Assert.Equal(0, Cli("run", "--model", path, "--input", path, "--output", output));
            Assert.Equal("fp32", SafetensorsFile.Load(output).Metadata["weights"]);
            Assert.NotEqual(0, Cli("run", "--model", path, "--input", path, "--output", output, "--weights", "fp16"));
            Assert.NotEqual(0, Cli("run", "--model", path, "--input", path, "--output", output, "--weights", "all")); // all is bench's
            Assert.NotEqual(0, Cli("bench", "--model", path, "--weights", "int4"));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void Run_refuses_int8_of_a_non_finite_weight_naming_it()
    {
        var spec = new RecurrentSpec(CellKind.Gru, 3, 4);
        var parameters = RecurrentNetwork.CreateRandom(spec, seed: 1).Parameters.ToArray();
        parameters[RecurrentNetwork.TensorsOf(spec).Single(s => s.Name == "weight_hh_l0").Offset + 5] = float.NaN; // row 1, column 1
        string model = Temp("nan-model"), input = Temp("nan-input");
        try
        {
            PyTorchModel.Save(RecurrentNetwork.FromParameters(spec, parameters), model);
            new SafetensorsWriter().Add("x", new float[6], [2, 1, 3]).Save(input);
            var e = Assert.Throws<ArgumentException>(() => RunModel.Run(new RunSettings { Model = model, Input = input, Output = input + ".out", Weights = WeightPrecision.Int8 }));
            Assert.Contains("Tensor 'weight_hh_l0'", e.Message, StringComparison.Ordinal);
            Assert.Contains("row 1, column 1", e.Message, StringComparison.Ordinal);
            Assert.Equal(1, Cli("run", "--model", model, "--input", input, "--output", input + ".out", "--weights", "int8"));
            Assert.Equal(0, Cli("run", "--model", model, "--input", input, "--output", input + ".out", "--weights", "bf16"));
        }
        finally
        {
            File.Delete(model);
            File.Delete(input);
            File.Delete(input + ".out");
        }
    }

    [Fact]
    public void Bench_all_reports_each_format_side_by_side()
    {
        string path = Fixtures.Get("pytorch", "lstm_head_sigmoid.safetensors");
        var settings = new BenchSettings { Model = path, Steps = 200, SequenceLength = 5 };
        var results = BenchModel.RunAll(settings, [WeightPrecision.Float32, WeightPrecision.BFloat16, WeightPrecision.Int8]);
        Assert.Equal([WeightPrecision.Float32, WeightPrecision.BFloat16, WeightPrecision.Int8], results.Select(r => r.Weights));
        var network = PyTorchModel.Load(path);
        long elements = network.Tensors.Where(s => s.Name.StartsWith("weight_", StringComparison.Ordinal)).Sum(s => (long)s.Length);
        long rows = network.Tensors.Where(s => s.Name.StartsWith("weight_", StringComparison.Ordinal)).Sum(s => (long)s.Dimensions[0]);
        Assert.Equal([4 * elements, 2 * elements, elements + 4 * rows], results.Select(r => r.WeightBytes));
        Assert.All(results, r => Assert.Equal(0, r.BytesAllocatedPerStep));
        Assert.All(results, r => Assert.True(r.StepMedianMicroseconds > 0 && r.SequenceStepsPerSecond > 0));

        var text = new StringWriter();
        BenchModel.WriteText(settings, results, text);
        string weightsLine = text.ToString().Split('\n').Single(l => l.StartsWith("weights ", StringComparison.Ordinal));
        Assert.Matches(@"^weights\s+fp32\s+bf16\s+int8\s*$", weightsLine);
        Assert.Contains("step median (µs)", text.ToString(), StringComparison.Ordinal);

        using var json = new MemoryStream();
        BenchModel.WriteJson(settings, results, json);
        using var document = JsonDocument.Parse(json.ToArray());
        Assert.Equal(["fp32", "bf16", "int8"], document.RootElement.EnumerateArray().Select(e => e.GetProperty("weights").GetString()));
        Assert.Equal(2 * elements, document.RootElement[1].GetProperty("weightBytes").GetInt64());

        // One format: the text names it with its bytes.
        var single = BenchModel.Run(settings with { Weights = WeightPrecision.Int8, Steps = 50 });
        var one = new StringWriter();
        BenchModel.WriteText(settings with { Weights = WeightPrecision.Int8 }, single, one);
        Assert.Contains($"weights            int8: {elements + 4 * rows:N0} bytes", one.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_shows_the_weight_bytes_per_format()
    {
        string path = Fixtures.Get("pytorch", "gru_bi2.safetensors");
        var output = new StringWriter();
        var network = InspectModel.Run(path, output);
        long elements = 0, rows = 0, others = 0;
        foreach (var slot in network.Tensors)
        {
            if (slot.Name.StartsWith("weight_", StringComparison.Ordinal)) { elements += slot.Length; rows += slot.Dimensions[0]; }
            else others += slot.Length;
        }
        string line = output.ToString().Split('\n').Single(l => l.StartsWith("weights ", StringComparison.Ordinal)).TrimEnd();
        Assert.Equal($"weights     weight_ih/weight_hh matrices: fp32 {4 * elements:N0} bytes, bf16 {2 * elements:N0} bytes, int8 and int8-int16 {elements + 4 * rows:N0} bytes (incl. per-row scales); biases and readout fp32 {4 * others:N0} bytes", line);
    }
}
