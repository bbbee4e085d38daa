using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using SimdRnn.Networks;

namespace SimdRnn.Benchmarks;

/// <summary>
/// Issue 13: one sequence (T = 100, B = 1) split by hidden units across 2 workers against 1 worker (the baseline),
/// and ONNX Runtime with 2 intra-op threads, at 512→512 (where the split pays) and 64→128 (where it must turn itself
/// off: the "2 workers" row then runs on one thread and should match the baseline).
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class RowSplitSequenceBenchmarks
{
    /// <summary>T, the time steps per invocation.</summary>
    public const int Steps = 100;

    private RecurrentSession _one = null!, _two = null!;
    private OrtHarness _ort = null!;
    private float[] _x = [], _y = [];

    [Params(CellKind.Gru, CellKind.Lstm)]
    public CellKind Cell { get; set; }

    /// <summary>"IxH": input and hidden size.</summary>
    [Params("512x512", "64x128")]
    public string Size { get; set; } = "512x512";

    [GlobalSetup]
    public void Setup()
    {
        var network = OrtHarness.Network(Cell, Size);
        _one = network.CreateSession();
        _one.MaxDegreeOfParallelism = 1;
        _two = network.CreateSession();
        _two.MaxDegreeOfParallelism = 2;
        _ort = new OrtHarness(network, Steps, 1, intraOpThreads: 2);
        _x = OrtHarness.Random(Steps * network.Spec.InputSize, 7);
        _y = new float[Steps * network.Spec.OutputSize];
        _two.Run(_x, 1, _y);
        Console.WriteLine($"// {Cell} {Size}: the 2-worker session runs on {_two.RowSplitWorkers} worker(s)");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _one.Dispose();
        _two.Dispose();
        _ort.Dispose();
    }

    [Benchmark(Baseline = true, Description = "1 worker")]
    public void OneWorker() => _one.Run(_x, 1, _y);

    [Benchmark(Description = "2 workers")]
    public void TwoWorkers() => _two.Run(_x, 1, _y);

    [Benchmark(Description = "ONNX Runtime, 2 intra-op threads")]
    public void OnnxRuntimeTwoThreads() => _ort.Run();
}

/// <summary>
/// Issue 13: one streaming step (B = 1) split across 2 workers against 1 worker, at 512→512 and 64→128 (split off).
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class RowSplitStepBenchmarks
{
    private RecurrentState _one = null!, _two = null!;
    private float[] _x = [], _y = [];

    [Params(CellKind.Gru, CellKind.Lstm)]
    public CellKind Cell { get; set; }

    /// <summary>"IxH": input and hidden size.</summary>
    [Params("512x512", "64x128")]
    public string Size { get; set; } = "512x512";

    [GlobalSetup]
    public void Setup()
    {
        var network = OrtHarness.Network(Cell, Size);
        _one = network.CreateState();
        _two = network.CreateState();
        _two.MaxDegreeOfParallelism = 2;
        _x = OrtHarness.Random(network.Spec.InputSize, 7);
        _y = new float[network.Spec.OutputSize];
        Console.WriteLine($"// {Cell} {Size}: the 2-worker state runs on {_two.ActiveWorkers} worker(s)");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _one.Dispose();
        _two.Dispose();
    }

    [Benchmark(Baseline = true, Description = "1 worker")]
    public void OneWorker() => _one.Step(_x, _y);

    [Benchmark(Description = "2 workers")]
    public void TwoWorkers() => _two.Step(_x, _y);
}

/// <summary>
/// The process's CPU time in the 50 ms after a run of one sequence (T = 100, B = 1, GRU 512→512): SimdRnn split across
/// 2 workers against ONNX Runtime with 2 intra-op threads (whose pool keeps spinning after a run). Printed, not
/// asserted: <c>dotnet run -c Release --project benchmarks/SimdRnn.Benchmarks -- rowsplit-idle</c>.
/// </summary>
internal static class RowSplitIdleCpu
{
    public static int Run()
    {
        var network = OrtHarness.Network(CellKind.Gru, "512x512");
        using var session = network.CreateSession();
        session.MaxDegreeOfParallelism = 2;
        using var ort = new OrtHarness(network, RowSplitSequenceBenchmarks.Steps, 1, intraOpThreads: 2);
        float[] x = OrtHarness.Random(RowSplitSequenceBenchmarks.Steps * 512, 7), y = new float[x.Length];
        for (int k = 0; k < 20; k++) { session.Run(x, 1, y); ort.Run(); }
        Thread.Sleep(200);
        Console.WriteLine($"machine: {Environment.ProcessorCount} logical cores; SimdRnn row split on {session.RowSplitWorkers} workers");
        for (int round = 0; round < 3; round++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"process CPU in the 50 ms after a run: SimdRnn {After(() => session.Run(x, 1, y)):F2} ms, ONNX Runtime (2 intra-op threads) {After(ort.Run):F2} ms"));
        }
        return 0;
    }

    /// <summary>Runs <paramref name="run"/>, then returns the process CPU time (ms) over the following 50 ms.</summary>
    private static double After(Action run)
    {
        var process = Process.GetCurrentProcess();
        run();
        process.Refresh();
        var before = process.TotalProcessorTime;
        Thread.Sleep(50);
        process.Refresh();
        double ms = (process.TotalProcessorTime - before).TotalMilliseconds;
        Thread.Sleep(200); // let everything settle before the next measurement
        return ms;
    }
}

/// <summary>
/// A rough Stopwatch probe of one streaming GRU step on 1 and 2 workers (the split forced on) at sizes around the
/// split's threshold: how <see cref="RowSplitPlan.Threshold"/> was chosen. Not a benchmark — run it on a quiet machine
/// to re-derive the threshold: <c>dotnet run -c Release --project benchmarks/SimdRnn.Benchmarks -- rowsplit-probe</c>.
/// </summary>
internal static class RowSplitProbe
{
    public static int Run()
    {
        foreach (var (i, h) in new[] { (64, 64), (64, 128), (128, 128), (128, 192), (192, 192), (256, 256), (384, 384), (512, 512) })
        {
            var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(CellKind.Gru, i, h), 1);
            using var one = network.CreateState();
            using var two = network.CreateState();
            two.UseWorkersForTests(2);
            float[] x = OrtHarness.Random(i, 1), y = new float[h];
            double t1 = Time(() => one.Step(x, y)), t2 = Time(() => two.Step(x, y));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"GRU {i}->{h}: G·H·(H+I) = {RowSplitPlan.Work(network.Spec),8}  1 worker {t1,8:F2} µs  2 workers {t2,8:F2} µs  ratio {t1 / t2:F2}"));
        }
        return 0;
    }

    /// <summary>The best of 5 means over 2000 steps, in µs per step.</summary>
    private static double Time(Action step)
    {
        for (int k = 0; k < 2000; k++) step();
        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int k = 0; k < 2000; k++) step();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMicroseconds / 2000);
        }
        return best;
    }
}

/// <summary>
/// Issues 13 and 11 together: one sequence (T = 100, B = 1) at 512→512 on 1 worker with fp32 weights (the baseline)
/// and on 2 workers with fp32 and with bf16 weights (each worker's bf16 slice of W_hh, 768 KiB for the GRU, fits its
/// core's 1 MiB L2; the fp32 slice, 1.5 MiB, does not).
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class RowSplitFormatBenchmarks
{
    private RecurrentSession _one = null!, _twoFp32 = null!, _twoBf16 = null!;
    private float[] _x = [], _y = [];

    [Params(CellKind.Gru, CellKind.Lstm)]
    public CellKind Cell { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var network = OrtHarness.Network(Cell, "512x512");
        _one = Session(network, 1);
        _twoFp32 = Session(network, 2);
        _twoBf16 = Session(network.WithWeightFormat(WeightPrecision.BFloat16), 2);
        _x = OrtHarness.Random(RowSplitSequenceBenchmarks.Steps * network.Spec.InputSize, 7);
        _y = new float[RowSplitSequenceBenchmarks.Steps * network.Spec.OutputSize];
        OneWorker(); TwoWorkers(); TwoWorkersBFloat16();
    }

    private static RecurrentSession Session(RecurrentNetwork network, int workers)
    {
        var session = network.CreateSession();
        session.MaxDegreeOfParallelism = workers;
        return session;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _one.Dispose();
        _twoFp32.Dispose();
        _twoBf16.Dispose();
    }

    [Benchmark(Baseline = true, Description = "1 worker, fp32")]
    public void OneWorker() => _one.Run(_x, 1, _y);

    [Benchmark(Description = "2 workers, fp32")]
    public void TwoWorkers() => _twoFp32.Run(_x, 1, _y);

    [Benchmark(Description = "2 workers, bf16")]
    public void TwoWorkersBFloat16() => _twoBf16.Run(_x, 1, _y);
}
