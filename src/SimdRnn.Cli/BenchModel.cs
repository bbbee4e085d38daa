using System.Diagnostics;
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

    /// <summary>
    /// The most cores a step and a run use (<c>--threads N</c>): <see cref="RecurrentState.MaxDegreeOfParallelism"/>
    /// and <see cref="RecurrentSession.MaxDegreeOfParallelism"/>. Null keeps their defaults (a state steps on one core,
    /// a session uses every core). A large model at B = 1 is then split by hidden units; small ones stay on one core.
    /// </summary>
    public int? Threads { get; init; }

    /// <summary>The format of the recurrent weight matrices (<see cref="RecurrentNetwork.WithWeightFormat"/>); fp32 by default.</summary>
    public WeightPrecision Weights { get; init; } = WeightPrecision.Float32;
}

/// <summary>What <c>simdrnn bench</c> measured.</summary>
/// <param name="Runtime">The .NET runtime.</param>
/// <param name="NativeAot">Whether this is a Native AOT build.</param>
/// <param name="VectorWidth">The float lanes of the widest kernel width this process runs at (16 where 512-bit
/// vectors are accelerated: AVX-512 under the JIT, or an AOT build for x86-64-v4; Vector&lt;float&gt;.Count, 8 on
/// x86-64-v3, 4 on ARM64; capped by SIMDRNN_VECTOR_WIDTH).</param>
/// <param name="SupportedWidths">Every kernel width this machine accelerates, widest first, in bits (e.g. "512, 256, 128, 32").</param>
/// <param name="StepMedianMicroseconds">The median latency of one streaming step (NaN for a bidirectional model).</param>
/// <param name="StepP99Microseconds">The 99th percentile latency of one streaming step.</param>
/// <param name="BytesAllocatedPerStep">Managed bytes allocated per streaming step in steady state (the least of up to three windows of steps).</param>
/// <param name="SequenceStepsPerSecond">Time steps per second (T·B per run) in sequence mode.</param>
public sealed record BenchResult(string Runtime, bool NativeAot, int VectorWidth, string SupportedWidths, double StepMedianMicroseconds, double StepP99Microseconds,
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
        if (settings.Batch < 1 || settings.Steps < 1 || settings.SequenceLength < 1 || settings.Threads < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), "--batch, --steps, --seq and --threads must be positive.");
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
        if (settings.Batch < 1 || settings.Steps < 1 || settings.SequenceLength < 1 || settings.Threads < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), "--batch, --steps, --seq and --threads must be positive.");
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
            using var state = network.CreateState(b);
            if (settings.Threads is int stepThreads) state.MaxDegreeOfParallelism = stepThreads;
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
            // Steady state: the least of up to three windows of as many steps. A one-off runtime event billed to this
            // thread (a method's tier-up landing in the window on a loaded machine: 6.6 KB once in a CI run of the
            // tests) shows in one window only; an allocation made by every step shows in all of them.
            for (int window = 1; window < 3 && bytesPerStep > 0; window++)
            {
                allocated = GC.GetAllocatedBytesForCurrentThread();
                for (int k = 0; k < ticks.Length; k++) state.Step(x, y);
                bytesPerStep = Math.Min(bytesPerStep, (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)ticks.Length);
            }
            Array.Sort(ticks);
            double toMicroseconds = 1e6 / Stopwatch.Frequency;
            median = ticks[ticks.Length / 2] * toMicroseconds;
            p99 = ticks[(int)Math.Min(ticks.Length - 1, Math.Ceiling(ticks.Length * 0.99) - 1)] * toMicroseconds;
        }

        using var session = network.CreateSession();
        if (settings.Threads is int runThreads) session.MaxDegreeOfParallelism = runThreads;
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
        return new BenchResult(RuntimeInformation.FrameworkDescription, !RuntimeFeature.IsDynamicCodeSupported,
            Kernels.Vectors.VectorWidth.Lanes(Kernels.Vectors.VectorWidth.Maximum),
            string.Join(", ", Kernels.Vectors.VectorWidth.Supported.Select(Kernels.Vectors.VectorWidth.Bits)),
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
        output.WriteLine($"runtime            {result.Runtime}{(result.NativeAot ? " (Native AOT)" : " (JIT)")}, kernels at {result.VectorWidth} float lanes ({32 * result.VectorWidth} bits; widths here: {result.SupportedWidths} bits)");
        output.WriteLine($"threads            {(settings.Threads is int threads ? threads.ToString(inv) : "default (step 1, sequence all cores)")}");
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
        output.WriteLine($"runtime            {first.Runtime}{(first.NativeAot ? " (Native AOT)" : " (JIT)")}, kernels at {first.VectorWidth} float lanes (widths here: {first.SupportedWidths} bits)");
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
        json.WriteString("supportedWidths", result.SupportedWidths);
        json.WriteNumber("batch", settings.Batch);
        json.WriteNumber("steps", settings.Steps);
        json.WriteNumber("sequenceLength", settings.SequenceLength);
        if (settings.Threads is int threads) json.WriteNumber("threads", threads);
        else json.WriteNull("threads");
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
