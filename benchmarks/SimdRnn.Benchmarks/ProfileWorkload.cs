using System.Diagnostics;
using SimdRnn.Networks;

namespace SimdRnn.Benchmarks;

/// <summary>
/// Runs one of the ONNX Runtime comparison workloads in a loop for a while, without BenchmarkDotNet, so that a sampling
/// profiler can attach to a process doing nothing else: <c>profile step|sequence|batch gru|lstm simdrnn|ort [IxH] [seconds] [fp32|bf16|int8|int8-int16]</c>
/// (the last: the SimdRnn network's weight format); <c>SIMDRNN_PROFILE_THREADS</c>: both engines on that many threads
/// (default one). scripts/profile.sh runs it under <c>perf record</c>; the results are in docs/profiles.md.
/// </summary>
internal static class ProfileWorkload
{
    public static int Run(string[] args)
    {
        if (args.Length < 4 || !ComparisonWorkload.IsWorkload(args[1]) || args[2] is not ("gru" or "lstm") || args[3] is not ("simdrnn" or "ort"))
        {
            Console.Error.WriteLine("usage: profile step|sequence|batch gru|lstm simdrnn|ort [IxH] [seconds] [fp32|bf16|int8|int8-int16]");
            return 2;
        }
        string workload = args[1];
        bool ort = args[3] == "ort";
        string size = args.Length > 4 ? args[4] : "64x128";
        double seconds = args.Length > 5 ? double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : 5;
        WeightPrecision? precision = ComparisonWorkload.Precision(args.Length > 6 ? args[6] : "fp32");
        if (precision is null)
        {
            Console.Error.WriteLine($"unknown weight format '{args[6]}' (fp32, bf16, int8, int8-int16)");
            return 2;
        }
        int threads = int.TryParse(Environment.GetEnvironmentVariable("SIMDRNN_PROFILE_THREADS"), out int t) ? t : 1;
        using var run = new ComparisonWorkload(workload, args[2] == "gru" ? CellKind.Gru : CellKind.Lstm, size, precision.Value, threads);
        Action invoke = ort ? run.RunOnnxRuntime : run.RunSimdRnn;

        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < 1) invoke(); // warm-up: the tiered JIT's optimized code
        long runs = 0;
        watch.Restart();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            for (int k = 0; k < 64; k++) invoke();
            runs += 64;
        }
        Console.WriteLine($"{workload} {args[2]} {args[3]} {size} {precision}: {runs} runs, {watch.Elapsed.TotalMilliseconds * 1000 / runs:0.00} µs per run");
        return 0;
    }
}
