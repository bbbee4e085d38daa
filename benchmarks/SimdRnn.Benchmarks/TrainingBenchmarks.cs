using BenchmarkDotNet.Attributes;
using SimdRnn.Networks;
using SimdRnn.Reference;
using SimdRnn.Training;

namespace SimdRnn.Benchmarks;

/// <summary>
/// One training epoch of the seed document's network (3-25-1, its two-step sequence): forward, exact BPTT and the
/// clipped SGD update. SimdRnn against the naive double-precision reference the tests check it with.
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class TrainingBenchmarks
{
    private static readonly float[] Inputs = [1, 0, 1, 0, 1, 0];
    private static readonly float[] Targets = [1, 0];
    private static readonly double[][] InputVectors = [[1, 0, 1], [0, 1, 0]];
    private static readonly double[][] TargetVectors = [[1], [0]];
    private ElmanTrainer _trainer = null!;
    private NaiveElman _reference = null!;

    [GlobalSetup]
    public void Setup()
    {
        var network = ElmanNetwork.CreateRandom(3, 25, 1, seed: 1);
        _trainer = new ElmanTrainer(network);
        _reference = new NaiveElman(3, 25, 1, Array.ConvertAll(network.Weights.All.ToArray(), v => (double)v));
    }

    [GlobalCleanup]
    public void Cleanup() => _trainer.Dispose();

    [Benchmark(Baseline = true, Description = "naive reference (double)")]
    public void NaiveEpoch() => _reference.ClippedSgd(_reference.Gradients(InputVectors, TargetVectors, bce: true, mean: false), 0.1, 5);

    [Benchmark(Description = "SimdRnn ElmanTrainer.TrainStep")]
    public LossReport SimdRnnEpoch() => _trainer.TrainStep(Inputs, Targets);
}

/// <summary>One streaming step (x → h → o) of an Elman network at the seed's size and at a service-sized one.</summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class ElmanStepBenchmarks
{
    private ElmanState _state = null!;
    private NaiveElman _reference = null!;
    private float[] _x = null!, _y = null!;
    private double[][] _xd = null!;

    [Params("3-25-1", "64-128-1")]
    public string Shape { get; set; } = "3-25-1";

    [GlobalSetup]
    public void Setup()
    {
        int[] s = Array.ConvertAll(Shape.Split('-'), int.Parse);
        var network = ElmanNetwork.CreateRandom(s[0], s[1], s[2], seed: 1, scale: 0.1f);
        _state = network.CreateState();
        _reference = new NaiveElman(s[0], s[1], s[2], Array.ConvertAll(network.Weights.All.ToArray(), v => (double)v));
        _x = Enumerable.Range(0, s[0]).Select(i => (float)Math.Sin(i)).ToArray();
        _y = new float[s[2]];
        _xd = [Array.ConvertAll(_x, v => (double)v)];
    }

    [Benchmark(Baseline = true, Description = "naive reference (double)")]
    public object NaiveStep() => _reference.Forward(_xd);

    [Benchmark(Description = "SimdRnn ElmanState.Step")]
    public void SimdRnnStep() => _state.Step(_x, _y);
}
