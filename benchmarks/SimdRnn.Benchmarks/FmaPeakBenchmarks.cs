using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;

namespace SimdRnn.Benchmarks;

/// <summary>
/// This machine's single-core fused-multiply-add peak: K independent chains acc_k = acc_k·m + c of 8-lane
/// <see cref="Vector256{T}"/> FMAs (enough chains to cover FMA latency × FMA ports), <see cref="Iterations"/> times,
/// so one invocation performs 2·8·K·Iterations flops. The GFLOP/s column of the best K is the peak the GEMV
/// results are compared with. m and c keep the values finite and normal (acc → c / (1 − m)).
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[GflopsColumn]
public class FmaPeakBenchmarks
{
    /// <summary>The loop's iteration count.</summary>
    public const int Iterations = 1 << 20;

    private Vector256<float> _m, _c;

    [GlobalSetup]
    public void Setup()
    {
        if (!Fma.IsSupported) throw new PlatformNotSupportedException("The FMA peak benchmark needs x86 FMA3.");
        _m = Vector256.Create(0.999999f);
        _c = Vector256.Create(1e-6f);
    }

    [Benchmark(Baseline = true)]
    [FlopCount(2.0 * 8 * 8 * Iterations)]
    public Vector256<float> Chains8()
    {
        Vector256<float> m = _m, c = _c;
        Vector256<float> a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c;
        for (int k = 0; k < Iterations; k++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c);
            a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c);
            a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
        }
        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    }

    [Benchmark]
    [FlopCount(2.0 * 8 * 12 * Iterations)]
    public Vector256<float> Chains12()
    {
        Vector256<float> m = _m, c = _c;
        Vector256<float> a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c;
        for (int k = 0; k < Iterations; k++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c);
            a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c);
            a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c); a9 = Fma.MultiplyAdd(a9, m, c);
            a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
        }
        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
    }
}
