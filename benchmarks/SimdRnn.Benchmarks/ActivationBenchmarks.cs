using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using System.Numerics.Tensors;
using SimdRnn.Kernels;

namespace SimdRnn.Benchmarks;

/// <summary>
/// tanh and sigmoid over a span: SimdRnn's kernels against System.Numerics.Tensors (the baseline of each category)
/// and a plain MathF loop. Inputs are uniform in [−6, 6], so both branches of tanh are taken within each vector.
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ActivationBenchmarks
{
    private float[] x = [];
    private float[] y = [];

    /// <summary>The span length: a multiple of every vector width, and one that needs a tail.</summary>
    [Params(1024, 4099)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        x = new float[N];
        y = new float[N];
        for (int i = 0; i < N; i++) x[i] = (float)(rng.NextDouble() * 12.0 - 6.0);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("tanh")]
    public void TanhTensorPrimitives() => TensorPrimitives.Tanh(x, y);

    [Benchmark, BenchmarkCategory("tanh")]
    public void TanhSimdRnn() => Activations.Tanh(x, y);

    [Benchmark, BenchmarkCategory("tanh")]
    public void TanhMathF()
    {
        float[] xs = x, ys = y;
        for (int i = 0; i < xs.Length; i++) ys[i] = MathF.Tanh(xs[i]);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("sigmoid")]
    public void SigmoidTensorPrimitives() => TensorPrimitives.Sigmoid(x, y);

    [Benchmark, BenchmarkCategory("sigmoid")]
    public void SigmoidSimdRnn() => Activations.Sigmoid(x, y);

    [Benchmark, BenchmarkCategory("sigmoid")]
    public void SigmoidMathF()
    {
        float[] xs = x, ys = y;
        for (int i = 0; i < xs.Length; i++) ys[i] = 1f / (1f + MathF.Exp(-xs[i]));
    }
}
