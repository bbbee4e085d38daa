using System.Diagnostics;
using SimdRnn.Networks;

namespace SimdRnn.Benchmarks;

/// <summary>
/// Runs one of the ONNX Runtime comparison workloads in a loop for a while, without BenchmarkDotNet, so that a sampling
/// profiler can attach to a process doing nothing else: <c>profile step|sequence|batch gru|lstm simdrnn|ort [IxH] [seconds] [fp32|bf16|int8]</c>
/// (the last: the SimdRnn network's weight format).
/// scripts/profile.sh runs it under <c>perf record</c>; the results are in docs/profiles.md.
/// </summary>
internal static class ProfileWorkload
{
    public static int Run(string[] args)
    {
        if (args.Length < 4 || args[1] is not ("step" or "sequence" or "batch") || args[2] is not ("gru" or "lstm") || args[3] is not ("simdrnn" or "ort"))
        {
            Console.Error.WriteLine("usage: profile step|sequence|batch gru|lstm simdrnn|ort [IxH] [seconds] [fp32|bf16|int8]");
            return 2;
        }
        string workload = args[1];
        var cell = args[2] == "gru" ? CellKind.Gru : CellKind.Lstm;
        bool ort = args[3] == "ort";
        string size = args.Length > 4 ? args[4] : "64x128";
        double seconds = args.Length > 5 ? double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : 5;
        (int steps, int batch) = workload switch
        {
            "step" => (OnnxRuntimeStepBenchmarks.Steps, OnnxRuntimeStepBenchmarks.Batch),
            "sequence" => (OnnxRuntimeSequenceBenchmarks.Steps, OnnxRuntimeSequenceBenchmarks.Batch),
            _ => (OnnxRuntimeBatchBenchmarks.Steps, OnnxRuntimeBatchBenchmarks.Batch),
        };

        WeightPrecision? precision = (args.Length > 6 ? args[6] : "fp32") switch
        {
            "fp32" => WeightPrecision.Float32,
            "bf16" => WeightPrecision.BFloat16,
            "int8" => WeightPrecision.Int8,
            "int8-int16" => WeightPrecision.Int8WithInt16Activations,
            _ => null,
        };
        if (precision is null)
        {
            Console.Error.WriteLine($"unknown weight format '{args[6]}' (fp32, bf16, int8, int8-int16)");
            return 2;
        }
        var master = OrtHarness.Network(cell, size);
        using var harness = new OrtHarness(master, steps, batch);
        var network = master.WithWeightFormat(precision.Value);
        using var session = network.CreateSession();
        // SIMDRNN_PROFILE_THREADS: the batch-parallel path on that many threads (default one).
        session.MaxDegreeOfParallelism = int.TryParse(Environment.GetEnvironmentVariable("SIMDRNN_PROFILE_THREADS"), out int threads) ? threads : 1;
        var state = network.CreateState(batch);
        float[] x = OrtHarness.Random(batch * network.Spec.InputSize, 7), y = new float[batch * network.Spec.OutputSize];

        // The same invocation as the benchmark method of that workload and engine.
        void Invoke()
        {
            if (ort && workload == "step") harness.CarryState();
            if (ort) harness.Run();
            else if (workload == "step") state.Step(x, y);
            else harness.RunSimdRnn(session);
        }

        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < 1) Invoke(); // warm-up: the tiered JIT's optimized code
        long runs = 0;
        watch.Restart();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            for (int k = 0; k < 64; k++) Invoke();
            runs += 64;
        }
        Console.WriteLine($"{workload} {args[2]} {args[3]} {size} {precision}: {runs} runs, {watch.Elapsed.TotalMilliseconds * 1000 / runs:0.00} µs per run");
        return 0;
    }
}
