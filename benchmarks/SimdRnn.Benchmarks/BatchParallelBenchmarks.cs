using BenchmarkDotNet.Attributes;
using SimdRnn.Networks;

namespace SimdRnn.Benchmarks;

/// <summary>
/// Batch-parallel sequence runs on this machine's cores against the single-threaded run, at T = 64, B = 64, I = 64,
/// H = 128 (the workload). The sequences are independent, so the batch is split into contiguous parts.
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class BatchParallelBenchmarks
{
    private RecurrentSession _serial = null!, _parallel = null!;
    private float[] _x = null!, _y = null!;

    [Params(CellKind.Gru, CellKind.Lstm)]
    public CellKind Cell { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(Cell, 64, 128), seed: 1);
        _serial = network.CreateSession();
        _serial.MaxDegreeOfParallelism = 1;
        _parallel = network.CreateSession();
        _parallel.MaxDegreeOfParallelism = Environment.ProcessorCount;
        _x = Enumerable.Range(0, 64 * 64 * 64).Select(i => MathF.Sin(i * 0.01f)).ToArray();
        _y = new float[64 * 64 * 128];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _serial.Dispose();
        _parallel.Dispose();
    }

    [Benchmark(Baseline = true, Description = "1 thread")]
    public void Serial() => _serial.Run(_x, 64, _y);

    [Benchmark(Description = "all cores")]
    public void Parallel() => _parallel.Run(_x, 64, _y);
}
