using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using System.Numerics.Tensors;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Benchmarks;

/// <summary>
/// tanh and sigmoid over a span: SimdRnn's public entry (the widest allowed width that fits) and its kernel at each
/// width this machine supports (<c>TanhAt</c>/<c>SigmoidAt</c>, the one copy of the lane math at 512 bits,
/// Vector&lt;T&gt;, 128 bits and one lane), against System.Numerics.Tensors (the baseline of each category) and a plain
/// MathF loop. Inputs are uniform in [−6, 6], so both branches of tanh are taken within each vector.
/// </summary>
/// <remarks>
/// Each width is a parameter value, so every group (size × width) has its own baseline run and its ratios are taken
/// inside one group; the public entry and the MathF loop do not depend on the width and repeat across the groups.
/// </remarks>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ActivationBenchmarks
{
    private float[] x = [];
    private float[] y = [];
    private Width width;

    /// <summary>The span length: a multiple of every vector width, and one that needs a tail.</summary>
    [Params(1024, 4099)]
    public int N { get; set; }

    /// <summary>The bits of each width this machine accelerates, widest first (32: the one-lane scalar width).</summary>
    public static IEnumerable<int> SupportedWidthBits => VectorWidth.Supported.Select(VectorWidth.Bits);

    /// <summary>The width <see cref="TanhAtWidth"/> and <see cref="SigmoidAtWidth"/> run at, in bits.</summary>
    [ParamsSource(nameof(SupportedWidthBits))]
    public int WidthBits { get; set; } = 32;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        x = new float[N];
        y = new float[N];
        for (int i = 0; i < N; i++) x[i] = (float)(rng.NextDouble() * 12.0 - 6.0);
        width = VectorWidth.Supported.First(w => VectorWidth.Bits(w) == WidthBits);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("tanh")]
    public void TanhTensorPrimitives() => TensorPrimitives.Tanh(x, y);

    [Benchmark, BenchmarkCategory("tanh")]
    public void TanhSimdRnn() => Activations.Tanh(x, y);

    [Benchmark, BenchmarkCategory("tanh")]
    public void TanhAtWidth() => Activations.TanhAt(width, x, y);

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
    public void SigmoidAtWidth() => Activations.SigmoidAt(width, x, y);

    [Benchmark, BenchmarkCategory("sigmoid")]
    public void SigmoidMathF()
    {
        float[] xs = x, ys = y;
        for (int i = 0; i < xs.Length; i++) ys[i] = 1f / (1f + MathF.Exp(-xs[i]));
    }
}
