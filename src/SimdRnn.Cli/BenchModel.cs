using System.Diagnostics;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using SimdRnn.Interop;
using SimdRnn.Networks;

namespace SimdRnn.Cli;

/// <summary>The settings of <c>simdrnn bench</c>.</summary>
public sealed record BenchSettings
{
    /// <summary>The model (a PyTorch state_dict as safetensors, or .onnx).</summary>
    public required string Model { get; init; }

    /// <summary>B, the streams stepped together and the sequences per run.</summary>
    public int Batch { get; init; } = 1;

    /// <summary>How many streaming steps to time, one by one.</summary>
    public int Steps { get; init; } = 20_000;

    /// <summary>T, the length of the sequences for the throughput run.</summary>
    public int SequenceLength { get; init; } = 100;

    /// <summary>The format of the recurrent weight matrices (<see cref="RecurrentNetwork.WithWeightFormat"/>); fp32 by default.</summary>
    public WeightPrecision Weights { get; init; } = WeightPrecision.Float32;
}

/// <summary>What <c>simdrnn bench</c> measured.</summary>
/// <param name="Runtime">The .NET runtime.</param>
/// <param name="NativeAot">Whether this is a Native AOT build.</param>
/// <param name="VectorWidth">Vector&lt;float&gt;.Count: the lanes the kernels use.</param>
/// <param name="ActivationWidth">The lanes of the tanh and sigmoid passes: 16 where 512-bit vectors are accelerated
/// (AVX-512 under the JIT, or an AOT build for x86-64-v4), else <paramref name="VectorWidth"/>.</param>
/// <param name="StepMedianMicroseconds">The median latency of one streaming step (NaN for a bidirectional model).</param>
/// <param name="StepP99Microseconds">The 99th percentile latency of one streaming step.</param>
/// <param name="BytesAllocatedPerStep">Managed bytes allocated per streaming step.</param>
/// <param name="SequenceStepsPerSecond">Time steps per second (T·B per run) in sequence mode.</param>
public sealed record BenchResult(string Runtime, bool NativeAot, int VectorWidth, int ActivationWidth, double StepMedianMicroseconds, double StepP99Microseconds,
    double BytesAllocatedPerStep, double SequenceStepsPerSecond)
{
    /// <summary>The format the network ran on.</summary>
    public WeightPrecision Weights { get; init; }

    /// <summary>The bytes of the recurrent weight matrices in <see cref="Weights"/> (what a one-stream step streams), without biases and readout.</summary>
    public long WeightBytes { get; init; }
}

/// <summary>Times a user's own model on this machine: streaming latency, sequence throughput, allocations.</summary>
public static class BenchModel
{
    /// <summary>How long each measurement is preceded by untimed runs (long enough for the tiered JIT's optimized code).</summary>
    private const double WarmUpSeconds = 0.5;

    /// <summary>Runs the measurements.</summary>
    /// <param name="settings">The model and sizes.</param>
    /// <returns>The figures.</returns>
    public static BenchResult Run(BenchSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Batch < 1 || settings.Steps < 1 || settings.SequenceLength < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), "--batch, --steps and --seq must be positive.");
        return Measure(settings, ModelFiles.Load(settings.Model, null).WithWeightFormat(settings.Weights));
    }

    /// <summary>Runs the measurements once per format, on one load of the model (the formats side by side).</summary>
    /// <param name="settings">The model and sizes (its <see cref="BenchSettings.Weights"/> is ignored).</param>
    /// <param name="formats">The formats, in the order to run and report them.</param>
    /// <returns>The figures, one per format.</returns>
    public static IReadOnlyList<BenchResult> RunAll(BenchSettings settings, IReadOnlyList<WeightPrecision> formats)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(formats);
        if (settings.Batch < 1 || settings.Steps < 1 || settings.SequenceLength < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), "--batch, --steps and --seq must be positive.");
        var master = ModelFiles.Load(settings.Model, null);
        var results = new List<BenchResult>(formats.Count);
        foreach (var format in formats) results.Add(Measure(settings, master.WithWeightFormat(format)));
        return results;
    }

    private static BenchResult Measure(BenchSettings settings, RecurrentNetwork network)
    {
        var spec = network.Spec;
        int b = settings.Batch;

        double median = double.NaN, p99 = double.NaN, bytesPerStep = double.NaN;
        if (!spec.Bidirectional)
        {
            var state = network.CreateState(b);
            float[] x = new float[b * spec.InputSize], y = new float[b * spec.OutputSize];
            for (int k = 0; k < x.Length; k++) x[k] = MathF.Sin(k);
            // Warm-up: at least WarmUpSeconds and 2000 steps. The tiered JIT installs optimized code only after a
            // call-counting delay (100 ms, extended while methods are still being compiled), so a count-only warm-up
            // measured tier-0 code: 2.2 µs instead of 0.31 µs per step for a GRU 3→6 (2026-11-27).
            var warm = Stopwatch.StartNew();
            for (int k = 0; k < 2000 || warm.Elapsed.TotalSeconds < WarmUpSeconds; k++) state.Step(x, y);
            var ticks = new long[settings.Steps];
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            for (int k = 0; k < ticks.Length; k++)
            {
                long start = Stopwatch.GetTimestamp();
                state.Step(x, y);
                ticks[k] = Stopwatch.GetTimestamp() - start;
            }
            bytesPerStep = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)ticks.Length;
            Array.Sort(ticks);
            double toMicroseconds = 1e6 / Stopwatch.Frequency;
            median = ticks[ticks.Length / 2] * toMicroseconds;
            p99 = ticks[(int)Math.Min(ticks.Length - 1, Math.Ceiling(ticks.Length * 0.99) - 1)] * toMicroseconds;
        }

        using var session = network.CreateSession();
        int t = settings.SequenceLength;
        float[] input = new float[t * b * spec.InputSize], output = new float[t * b * spec.OutputSize];
        for (int k = 0; k < input.Length; k++) input[k] = MathF.Cos(k);
        session.Run(input, b, output);
        var warmRuns = Stopwatch.StartNew();
        for (int k = 0; k < 3 || warmRuns.Elapsed.TotalSeconds < WarmUpSeconds; k++) session.Run(input, b, output); // as above
        int runs = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < 1 || runs < 3)
        {
            session.Run(input, b, output);
            runs++;
        }
        double stepsPerSecond = (double)runs * t * b / watch.Elapsed.TotalSeconds;
        return new BenchResult(RuntimeInformation.FrameworkDescription, !RuntimeFeature.IsDynamicCodeSupported, Vector<float>.Count,
            Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector<float>.Count,
            median, p99, bytesPerStep, stepsPerSecond)
        {
            Weights = network.WeightPrecision,
            WeightBytes = ModelFiles.WeightBytes(network, network.WeightPrecision).Matrices,
        };
    }

    /// <summary>Writes the result as plain text.</summary>
    /// <param name="settings">What was measured.</param>
    /// <param name="result">The figures.</param>
    /// <param name="output">Where to write.</param>
    public static void WriteText(BenchSettings settings, BenchResult result, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        output.WriteLine($"model              {settings.Model}");
        output.WriteLine($"runtime            {result.Runtime}{(result.NativeAot ? " (Native AOT)" : " (JIT)")}, {result.VectorWidth} float lanes ({result.ActivationWidth} in tanh/sigmoid)");
        output.WriteLine(string.Create(inv, $"weights            {ModelFiles.WeightsName(result.Weights)}: {result.WeightBytes:N0} bytes of recurrent weight matrices"));
        output.WriteLine(string.Create(inv, $"streaming step     B={settings.Batch}: median {result.StepMedianMicroseconds:0.00} µs, p99 {result.StepP99Microseconds:0.00} µs over {settings.Steps} steps"));
        output.WriteLine(string.Create(inv, $"allocated          {result.BytesAllocatedPerStep:0.##} bytes per step"));
        output.WriteLine(string.Create(inv, $"sequence           T={settings.SequenceLength}, B={settings.Batch}: {result.SequenceStepsPerSecond:N0} steps/s"));
    }

    /// <summary>Writes the results of several formats side by side as a plain-text table (one column per format).</summary>
    /// <param name="settings">What was measured.</param>
    /// <param name="results">The figures, one per format (<see cref="RunAll"/>).</param>
    /// <param name="output">Where to write.</param>
    public static void WriteText(BenchSettings settings, IReadOnlyList<BenchResult> results, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(output);
        if (results.Count == 0) return;
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var first = results[0];
        output.WriteLine($"model              {settings.Model}");
        output.WriteLine($"runtime            {first.Runtime}{(first.NativeAot ? " (Native AOT)" : " (JIT)")}, {first.VectorWidth} float lanes ({first.ActivationWidth} in tanh/sigmoid)");
        output.WriteLine(string.Create(inv, $"B={settings.Batch}, {settings.Steps} streaming steps, sequences of T={settings.SequenceLength}"));
        void Row(string label, Func<BenchResult, string> cell)
        {
            var line = new System.Text.StringBuilder(label.PadRight(24));
            foreach (var r in results) line.Append(cell(r).PadLeft(14));
            output.WriteLine(line.ToString());
        }
        Row("weights", r => ModelFiles.WeightsName(r.Weights));
        Row("weight bytes", r => r.WeightBytes.ToString("N0", inv));
        Row("step median (µs)", r => r.StepMedianMicroseconds.ToString("0.00", inv));
        Row("step p99 (µs)", r => r.StepP99Microseconds.ToString("0.00", inv));
        Row("allocated (B/step)", r => r.BytesAllocatedPerStep.ToString("0.##", inv));
        Row("sequence (steps/s)", r => r.SequenceStepsPerSecond.ToString("N0", inv));
        Row("step vs first", r => (first.StepMedianMicroseconds / r.StepMedianMicroseconds).ToString("0.00×", inv));
        Row("sequence vs first", r => (r.SequenceStepsPerSecond / first.SequenceStepsPerSecond).ToString("0.00×", inv));
    }

    /// <summary>Writes the results of several formats as a JSON array of <see cref="WriteJson(BenchSettings, BenchResult, Stream)"/>'s objects.</summary>
    /// <param name="settings">What was measured.</param>
    /// <param name="results">The figures, one per format.</param>
    /// <param name="output">Where to write.</param>
    public static void WriteJson(BenchSettings settings, IReadOnlyList<BenchResult> results, Stream output)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(results);
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartArray();
        foreach (var result in results) WriteObject(json, settings, result);
        json.WriteEndArray();
    }

    /// <summary>Writes the result as one JSON object (for tools).</summary>
    /// <param name="settings">What was measured.</param>
    /// <param name="result">The figures.</param>
    /// <param name="output">Where to write.</param>
    public static void WriteJson(BenchSettings settings, BenchResult result, Stream output)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(result);
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        WriteObject(json, settings, result);
    }

    private static void WriteObject(Utf8JsonWriter json, BenchSettings settings, BenchResult result)
    {
        json.WriteStartObject();
        json.WriteString("model", settings.Model);
        json.WriteString("runtime", result.Runtime);
        json.WriteBoolean("nativeAot", result.NativeAot);
        json.WriteNumber("vectorWidth", result.VectorWidth);
        json.WriteNumber("activationWidth", result.ActivationWidth);
        json.WriteNumber("batch", settings.Batch);
        json.WriteNumber("steps", settings.Steps);
        json.WriteNumber("sequenceLength", settings.SequenceLength);
        json.WriteString("weights", ModelFiles.WeightsName(result.Weights));
        json.WriteNumber("weightBytes", result.WeightBytes);
        WriteNumber(json, "stepMedianMicroseconds", result.StepMedianMicroseconds);
        WriteNumber(json, "stepP99Microseconds", result.StepP99Microseconds);
        WriteNumber(json, "bytesAllocatedPerStep", result.BytesAllocatedPerStep);
        json.WriteNumber("sequenceStepsPerSecond", result.SequenceStepsPerSecond);
        json.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteNull(name);
    }
}
