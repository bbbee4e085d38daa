// Measures the accuracy of SimdRnn's reduced-precision weights (issue 11) for docs/accuracy.md — a measurement of
// errors, not of time. Run from the repository root:
//
//   /usr/bin/python3 tools/pytorch/quantize_dynamic_accuracy.py        # writes artifacts/quantized/{gru,lstm}_512.safetensors
//   dotnet run -c Release --project tools/ReducedPrecisionAccuracy [repository-root]
//
// 1. The PyTorch fixtures (tests/fixtures/pytorch): each format's outputs against PyTorch's fp32 outputs.
// 2. The 512→512 GRU and LSTM of the script: one sequence (B = 1) of T = 1000 steps; max |y_format − y_fp32| over the
//    512 outputs at t = 1, 10, 100, 1000 (and the max over every step up to t).
// 3. The same models' sigmoid readout at the last of T = 20 steps, thresholded at 0.5, on 10^4 sequences: the share
//    of decisions that differ from fp32's.
// Inputs of 2 and 3 come from the splitmix64 generator the script uses, so both sides see the same inputs.
using System.Globalization;
using SimdRnn.Interop;
using SimdRnn.Networks;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 2 && args[0] == "bf16-sample")
{
    // A small bf16 network saved as PyTorch would name it, with inputs and SimdRnn's outputs, for
    // tools/pytorch/check_bf16_safetensors.py to load into nn.GRU and compare.
    var spec = new RecurrentSpec(CellKind.Gru, 5, 8) { Layers = 2, ReadoutSize = 2, ReadoutActivation = ReadoutActivation.Sigmoid };
    var bf16 = RecurrentNetwork.CreateRandom(spec, seed: 11).WithWeightFormat(WeightPrecision.BFloat16);
    Directory.CreateDirectory(args[1]);
    PyTorchModel.Save(bf16, Path.Combine(args[1], "gru_bf16.safetensors"));
    float[] xs = Splitmix.Uniform(3, 6 * 2 * 5), outs = new float[6 * 2 * 2];
    using (var session = bf16.CreateSession()) session.Run(xs, 2, outs);
    new SafetensorsWriter().Add("x", xs, [6, 2, 5]).Add("out", outs, [6, 2, 2]).Save(Path.Combine(args[1], "gru_bf16_io.safetensors"));
    Console.WriteLine($"wrote {args[1]}/gru_bf16.safetensors and gru_bf16_io.safetensors");
    return 0;
}
string root = args.Length > 0 ? args[0] : Directory.GetCurrentDirectory();
WeightPrecision[] formats = [WeightPrecision.Float32, WeightPrecision.BFloat16, WeightPrecision.Int8, WeightPrecision.Int8WithInt16Activations];
string[] names = [.. formats.Select(f => f switch { WeightPrecision.BFloat16 => "bf16", WeightPrecision.Int8 => "int8", WeightPrecision.Int8WithInt16Activations => "int8-int16", _ => "fp32" })];

Console.WriteLine($"date {DateTime.UtcNow:yyyy-MM-dd}, CPU {Cpu()}, {Environment.ProcessorCount} cores");
Console.WriteLine();
Fixtures(Path.Combine(root, "tests", "fixtures", "pytorch"));
foreach (string cell in new[] { "gru", "lstm" })
{
    string path = Path.Combine(root, "artifacts", "quantized", $"{cell}_512.safetensors");
    if (!File.Exists(path))
    {
        Console.WriteLine($"{path} is missing: run tools/pytorch/quantize_dynamic_accuracy.py first.");
        continue;
    }
    var master = PyTorchModel.Load(path);
    Growth(cell, master);
    Flips(cell, master);
}
return 0;

void Fixtures(string folder)
{
    Console.WriteLine("## PyTorch fixtures: max |output − PyTorch fp32| (y, or out with a readout), and relative to max |PyTorch|");
    Console.WriteLine($"| fixture | {string.Join(" | ", names)} |");
    Console.WriteLine($"|---|{string.Concat(names.Select(_ => "---|"))}");
    var worst = new double[formats.Length];
    var worstRelative = new double[formats.Length];
    foreach (string file in Directory.GetFiles(folder, "*.safetensors").Order(StringComparer.Ordinal))
    {
        var data = SafetensorsFile.Load(file);
        if (!data.Contains("x") || !data.Contains("y")) continue;
        var network = PyTorchModel.Load(data);
        var spec = network.Spec;
        float[] x = data.ReadFloat32("x");
        var xInfo = data.GetInfo("x");
        int batch = (int)xInfo.Shape[spec.BatchFirst ? 0 : 1], steps = (int)xInfo.Shape[spec.BatchFirst ? 1 : 0];
        float[] h0 = data.Contains("h0") ? data.ReadFloat32("h0") : [], c0 = data.Contains("c0") ? data.ReadFloat32("c0") : [];
        string name = spec.ReadoutSize > 0 ? "out" : "y";
        float[] expected = data.ReadFloat32(name);
        double scale = expected.Max(v => Math.Abs((double)v));
        var cells = new List<string>();
        for (int f = 0; f < formats.Length; f++)
        {
            var output = new float[steps * batch * spec.OutputSize];
            using (var session = network.WithWeightFormat(formats[f]).CreateSession()) session.Run(x, batch, output, h0, c0);
            double error = 0;
            for (int k = 0; k < output.Length; k++) error = Math.Max(error, Math.Abs(output[k] - (double)expected[k]));
            worst[f] = Math.Max(worst[f], error);
            worstRelative[f] = Math.Max(worstRelative[f], error / scale);
            cells.Add($"{error:0.0e+0}");
        }
        Console.WriteLine($"| {Path.GetFileNameWithoutExtension(file)} | {string.Join(" | ", cells)} |");
    }
    Console.WriteLine($"| **worst (absolute)** | {string.Join(" | ", worst.Select(v => $"{v:0.0e+0}"))} |");
    Console.WriteLine($"| **worst (relative to max \\|PyTorch\\|)** | {string.Join(" | ", worstRelative.Select(v => $"{v:0.0e+0}"))} |");
    Console.WriteLine();
}

void Growth(string cell, RecurrentNetwork master)
{
    const int steps = 1000;
    int h = master.Spec.HiddenSize, i = master.Spec.InputSize;
    float[] x = Splitmix.Uniform(1, steps * i);
    var outputs = new float[formats.Length][];
    for (int f = 0; f < formats.Length; f++)
    {
        outputs[f] = new float[steps * h];
        var readout = new float[steps];
        using var session = master.WithWeightFormat(formats[f]).CreateSession();
        session.Run(x, 1, readout, layerOutput: outputs[f]);
    }
    Console.WriteLine($"## {cell.ToUpperInvariant()} 512→512, one sequence (B = 1): max |y − y_fp32| over the 512 outputs at step t (max over steps ≤ t)");
    Console.WriteLine($"| t | {string.Join(" | ", names[1..])} |");
    Console.WriteLine($"|---|{string.Concat(names[1..].Select(_ => "---|"))}");
    foreach (int t in new[] { 1, 10, 100, 1000 })
    {
        var cells = new List<string>();
        for (int f = 1; f < formats.Length; f++)
        {
            double at = 0, upTo = 0;
            for (int s = 0; s < t; s++)
                for (int k = 0; k < h; k++)
                {
                    double d = Math.Abs(outputs[f][s * h + k] - (double)outputs[0][s * h + k]);
                    upTo = Math.Max(upTo, d);
                    if (s == t - 1) at = Math.Max(at, d);
                }
            cells.Add($"{at:0.0e+0} ({upTo:0.0e+0})");
        }
        Console.WriteLine($"| {t} | {string.Join(" | ", cells)} |");
    }
    Console.WriteLine();
}

void Flips(string cell, RecurrentNetwork master)
{
    const int sequences = 10_000, steps = 20, chunk = 500;
    int i = master.Spec.InputSize;
    var decisions = new bool[formats.Length][];
    for (int f = 0; f < formats.Length; f++) decisions[f] = new bool[sequences];
    var input = new float[steps * chunk * i];
    var output = new float[steps * chunk];
    var sessions = formats.Select(format => master.WithWeightFormat(format).CreateSession()).ToArray();
    for (int start = 0; start < sequences; start += chunk)
    {
        // Sequence s: splitmix(2·2^32 + s) of T·I values, [T, I]; laid out [T, B, I].
        for (int b = 0; b < chunk; b++)
        {
            float[] sequence = Splitmix.Uniform(2UL * (1UL << 32) + (ulong)(start + b), steps * i);
            for (int t = 0; t < steps; t++) sequence.AsSpan(t * i, i).CopyTo(input.AsSpan((t * chunk + b) * i, i));
        }
        for (int f = 0; f < formats.Length; f++)
        {
            sessions[f].Run(input, chunk, output);
            for (int b = 0; b < chunk; b++) decisions[f][start + b] = output[(steps - 1) * chunk + b] >= 0.5f;
        }
    }
    foreach (var session in sessions) session.Dispose();
    Console.WriteLine($"## {cell.ToUpperInvariant()} 512→512 + sigmoid readout: decisions at 0.5 after T = {steps}, {sequences} sequences");
    for (int f = 1; f < formats.Length; f++)
    {
        int flips = 0;
        for (int s = 0; s < sequences; s++) flips += decisions[f][s] != decisions[0][s] ? 1 : 0;
        Console.WriteLine($"{names[f]}: {flips} flips ({100.0 * flips / sequences:0.00}%)");
    }
    Console.WriteLine();
}

static string Cpu()
{
    try
    {
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
            if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }
    catch (IOException)
    {
    }
    return "unknown";
}

/// <summary>splitmix64 uniform floats in [−1, 1), exactly as tools/pytorch/quantize_dynamic_accuracy.py makes them.</summary>
internal static class Splitmix
{
    public static float[] Uniform(ulong seed, int n)
    {
        var values = new float[n];
        for (int k = 0; k < n; k++)
        {
            ulong z = unchecked(seed + (ulong)(k + 1) * 0x9E3779B97F4A7C15UL);
            z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
            z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
            z ^= z >> 31;
            values[k] = (z >> 40) * (1f / (1 << 24)) * 2f - 1f;
        }
        return values;
    }
}
