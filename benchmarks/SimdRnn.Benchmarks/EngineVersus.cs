using System.Diagnostics;
using System.Globalization;
using SimdRnn.Networks;

namespace SimdRnn.Benchmarks;

/// <summary>
/// ONNX Runtime against SimdRnn on one comparison workload, in one process, in alternating slices of about a quarter of
/// a second (which engine goes first alternates too), so that the VM's drift — 1.5× within minutes on the 2-vCPU
/// machines this project runs on — hits both engines alike; the way issue 10 measured ("15 interleaved rounds,
/// medians"). BenchmarkDotNet runs one engine after the other and cannot do that.
/// <c>versus step|sequence|batch gru|lstm [IxH] [rounds] [threads] [fp32|bf16|int8|int8-int16]</c> prints each engine's
/// median time per invocation and the median of the rounds' ratios (ONNX Runtime / SimdRnn: &gt; 1, SimdRnn faster),
/// with their range. Timings only; not part of CI.
/// </summary>
internal static class EngineVersus
{
    private const double SliceSeconds = 0.25;
    private const int PauseMilliseconds = 50;

    public static int Run(string[] args)
    {
        if (args.Length < 3 || !ComparisonWorkload.IsWorkload(args[1]) || args[2] is not ("gru" or "lstm"))
        {
            Console.Error.WriteLine("usage: versus step|sequence|batch gru|lstm [IxH] [rounds] [threads] [fp32|bf16|int8|int8-int16]");
            return 2;
        }
        string size = args.Length > 3 ? args[3] : "64x128";
        int rounds = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 15;
        int threads = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 1;
        WeightPrecision? precision = ComparisonWorkload.Precision(args.Length > 6 ? args[6] : "fp32");
        if (precision is null || rounds < 1 || threads < 1)
        {
            Console.Error.WriteLine("rounds and threads are at least 1; the formats are fp32, bf16, int8, int8-int16");
            return 2;
        }
        using var run = new ComparisonWorkload(args[1], args[2] == "gru" ? CellKind.Gru : CellKind.Lstm, size, precision.Value, threads);
        int ortCount = Calibrate(run.RunOnnxRuntime), simdCount = Calibrate(run.RunSimdRnn);

        var ort = new double[rounds];
        var simd = new double[rounds];
        var ratios = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            if (r % 2 == 0)
            {
                ort[r] = Slice(run.RunOnnxRuntime, ortCount);
                simd[r] = Slice(run.RunSimdRnn, simdCount);
            }
            else
            {
                simd[r] = Slice(run.RunSimdRnn, simdCount);
                ort[r] = Slice(run.RunOnnxRuntime, ortCount);
            }
            ratios[r] = ort[r] / simd[r];
        }
        Array.Sort(ratios);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{args[1]} {args[2]} {size} {precision.Value}, {threads} thread(s): ONNX Runtime {Median(ort):0.000} µs, SimdRnn {Median(simd):0.000} µs, " +
            $"ratio {Median(ratios):0.000} (rounds {ratios[0]:0.000}–{ratios[^1]:0.000}; median of {rounds} alternating rounds)"));
        return 0;
    }

    /// <summary>Warms <paramref name="invoke"/> up for a second (the tiered JIT's final code) and returns how many calls fill a slice.</summary>
    private static int Calibrate(Action invoke)
    {
        var watch = Stopwatch.StartNew();
        long calls = 0;
        while (watch.Elapsed.TotalSeconds < 1) { invoke(); calls++; }
        return (int)Math.Max(1, calls * SliceSeconds / watch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// µs per call over <paramref name="count"/> calls, after a pause of <see cref="PauseMilliseconds"/> so that the
    /// other engine's worker threads (ONNX Runtime's spin for a while after a run) are idle when the slice starts. With
    /// two threads the slices still swing by up to 2.5× on a 2-vCPU VM: read those ratios with BenchmarkDotNet's, which
    /// runs each engine in a process of its own.
    /// </summary>
    private static double Slice(Action invoke, int count)
    {
        Thread.Sleep(PauseMilliseconds);
        long start = Stopwatch.GetTimestamp();
        for (int k = 0; k < count; k++) invoke();
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / count;
    }

    private static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
