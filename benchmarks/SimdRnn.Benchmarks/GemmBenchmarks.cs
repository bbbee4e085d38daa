using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using SimdRnn.Kernels;

namespace SimdRnn.Benchmarks;

/// <summary>
/// Shapes "M×N×K" from RNN workloads: a whole sequence's input projection (T·B = 4096 rows, 3·128 gates, 64 inputs),
/// a large layer (1024 rows, 4·384 gates, 512 inputs), one batched recurrent step (batch 64, 3·128 gates, H = 128),
/// and an odd shape with every tail. GFLOP/s = 2·M·N·K / median (see docs/benchmarks-gemm.md).
/// </summary>
public abstract class GemmBenchmarkBase
{
    /// <summary>The shape M×N×K of C[M×N] and the inner dimension K.</summary>
    [Params("4096x384x64", "1024x1536x512", "64x384x128", "1027x515x67")]
    public string Shape { get; set; } = "64x384x128";

    protected int M, N, K;
    protected float[] A = null!, B = null!, C = null!;

    [GlobalSetup]
    public void Setup()
    {
        int[] s = Array.ConvertAll(Shape.Split('x'), int.Parse);
        (M, N, K) = (s[0], s[1], s[2]);
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

/// <summary>C = A·Bᵀ (forward input projection X·W_ihᵀ): scalar twin vs blocked SIMD vs a TensorPrimitives.Dot per output.</summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class GemmMultiplyTransposedBenchmarks : GemmBenchmarkBase
{
    [Benchmark(Baseline = true, Description = "A·Bᵀ scalar twin")]
    public void Scalar() => Gemm.Scalar.MultiplyTransposed(A, M, K, B, N, C, accumulate: false);

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

    [Benchmark(Description = "A·Bᵀ Gemm (SIMD)")]
    public void Simd() => Gemm.MultiplyTransposed(A, M, K, B, N, C, accumulate: false);
}

/// <summary>C += A·B (back-propagation dX += dP·W): scalar twin vs blocked SIMD. B is K×N here.</summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class GemmMultiplyAccumulateBenchmarks : GemmBenchmarkBase
{
    [Benchmark(Baseline = true, Description = "A·B scalar twin")]
    public void Scalar() => Gemm.Scalar.MultiplyAccumulate(A, M, K, B, N, C);

    [Benchmark(Description = "A·B Gemm (SIMD)")]
    public void Simd() => Gemm.MultiplyAccumulate(A, M, K, B, N, C);
}

/// <summary>C += Aᵀ·B (weight gradient dW += dPᵀ·X): scalar twin vs blocked SIMD. A is K×M, B is K×N here.</summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class GemmTransposedMultiplyAccumulateBenchmarks : GemmBenchmarkBase
{
    [Benchmark(Baseline = true, Description = "Aᵀ·B scalar twin")]
    public void Scalar() => Gemm.Scalar.TransposedMultiplyAccumulate(A, K, M, B, N, C);

    [Benchmark(Description = "Aᵀ·B Gemm (SIMD)")]
    public void Simd() => Gemm.TransposedMultiplyAccumulate(A, K, M, B, N, C);
}
