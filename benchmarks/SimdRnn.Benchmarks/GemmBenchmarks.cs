using System.Globalization;
using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Benchmarks;

/// <summary>
/// Shapes "M×N×K" (C is M×N, K the inner dimension) from the batch benchmark: a whole sequence's input projection
/// (T·B = 4096 rows, 3·128 gates, 64 inputs), the recurrent products of a batch of 64 (H = 128 inputs, 3·128 GRU or
/// 4·128 LSTM gates), a large layer (4096 rows, 4·384 gates, 512 inputs), and an odd shape with every tail. Each kernel
/// runs at every vector width this machine supports (<see cref="Bits"/>: 512, 256 = Vector&lt;T&gt;, 128) through the
/// <c>…At</c> entry points, against the same kernel at the one-lane scalar width as the baseline (the same blocked
/// code, so the ratio is what the vectors buy). GFLOP/s = 2·M·N·K / median.
/// </summary>
public abstract class GemmBenchmarkBase
{
    /// <summary>The shapes "MxNxK".</summary>
    public static IEnumerable<string> Shapes =>
        Environment.GetEnvironmentVariable("SIMDRNN_BENCH_GEMM_SHAPES") is { Length: > 0 } only // a shorter run: "4096x384x64,64x512x128"
            ? only.Split(',')
            : ["4096x384x64", "64x384x128", "64x512x128", "4096x1536x512", "1027x515x67"];

    /// <summary>The vector widths this machine supports, in bits (32, the scalar width, only when there are none).</summary>
    public static IEnumerable<int> SupportedBits =>
        VectorWidth.Supported.Count > 1 ? VectorWidth.Supported.Where(w => w != Width.Scalar).Select(VectorWidth.Bits) : [32];

    /// <summary>The shape "MxNxK" of C[M×N] and the inner dimension K.</summary>
    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "64x384x128";

    /// <summary>The kernel width in bits.</summary>
    [ParamsSource(nameof(SupportedBits))]
    public int Bits { get; set; } = 32;

    protected int M, N, K;
    protected float[] A = null!, B = null!, C = null!;

    private protected Width KernelWidth { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        int[] s = Array.ConvertAll(Shape.Split('x'), x => int.Parse(x, CultureInfo.InvariantCulture));
        (M, N, K) = (s[0], s[1], s[2]);
        KernelWidth = VectorWidth.Supported.First(w => VectorWidth.Bits(w) == Bits);
        var random = new Random(1);
        A = Fill(random, M * K);
        B = Fill(random, N * K);
        C = Fill(random, M * N);
    }

    private static float[] Fill(Random random, int length)
    {
        float[] values = new float[length];
        for (int t = 0; t < length; t++) values[t] = (float)(random.NextDouble() - 0.5);
        return values;
    }
}

/// <summary>C = A·Bᵀ (forward input projection X·W_ihᵀ) at each width, and a TensorPrimitives.Dot per output (the same at every Bits).</summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[GemmGflopsColumn]
public class GemmMultiplyTransposedBenchmarks : GemmBenchmarkBase
{
    [Benchmark(Baseline = true, Description = "A·Bᵀ scalar twin")]
    public void ScalarTwin() => Gemm.MultiplyTransposedAt(Width.Scalar, A, M, K, B, N, C, accumulate: false);

    [Benchmark(Description = "A·Bᵀ Gemm at Bits")]
    public void SimdRnn() => Gemm.MultiplyTransposedAt(KernelWidth, A, M, K, B, N, C, accumulate: false);

    [Benchmark(Description = "A·Bᵀ TensorPrimitives.Dot per element")]
    public void TensorPrimitivesDot()
    {
        ReadOnlySpan<float> a = A, b = B;
        Span<float> c = C;
        for (int i = 0; i < M; i++)
        {
            var row = a.Slice(i * K, K);
            for (int j = 0; j < N; j++) c[i * N + j] = TensorPrimitives.Dot(row, b.Slice(j * K, K));
        }
    }
}

/// <summary>C += A·B (the packed forward projection X·(W_ihᵀ), and back-propagation dX += dP·W) at each width. B is K×N here.</summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[GemmGflopsColumn]
public class GemmMultiplyAccumulateBenchmarks : GemmBenchmarkBase
{
    [Benchmark(Baseline = true, Description = "A·B scalar twin")]
    public void ScalarTwin() => Gemm.MultiplyAccumulateAt(Width.Scalar, A, M, K, B, N, C);

    [Benchmark(Description = "A·B Gemm at Bits")]
    public void SimdRnn() => Gemm.MultiplyAccumulateAt(KernelWidth, A, M, K, B, N, C);
}

/// <summary>C += Aᵀ·B (weight gradient dW += dPᵀ·X) at each width. A is K×M, B is K×N here.</summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[GemmGflopsColumn]
public class GemmTransposedMultiplyAccumulateBenchmarks : GemmBenchmarkBase
{
    [Benchmark(Baseline = true, Description = "Aᵀ·B scalar twin")]
    public void ScalarTwin() => Gemm.TransposedMultiplyAccumulateAt(Width.Scalar, A, K, M, B, N, C);

    [Benchmark(Description = "Aᵀ·B Gemm at Bits")]
    public void SimdRnn() => Gemm.TransposedMultiplyAccumulateAt(KernelWidth, A, K, M, B, N, C);
}

/// <summary>Adds the <see cref="GemmGflopsColumn"/> to a GEMM benchmark class.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class GemmGflopsColumnAttribute() : ColumnConfigBaseAttribute(new GemmGflopsColumn());

/// <summary>GFLOP/s of a GEMM benchmark with a <c>Shape</c> parameter "MxNxK": 2·M·N·K per invocation.</summary>
public sealed class GemmGflopsColumn : RateColumnBase
{
    public override string ColumnName => "GFLOP/s";
    public override string Legend => "Floating-point operations per second (10^9), 2·M·N·K from the median";

    protected override double PerInvocation(BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Parameters["Shape"] is not string shape) return double.NaN;
        double flops = 2;
        foreach (string part in shape.Split('x')) flops *= int.Parse(part, CultureInfo.InvariantCulture);
        return flops;
    }
}
