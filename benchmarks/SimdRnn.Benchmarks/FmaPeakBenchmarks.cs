using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;

namespace SimdRnn.Benchmarks;

/// <summary>
/// This machine's single-core fused-multiply-add peak at every vector width it accelerates (<see cref="Bits"/> =
/// 128, 256, 512; widths the hardware lacks are not run): K independent chains acc_k = acc_k·m + c (K = 10 or 12,
/// enough chains to cover FMA latency × FMA ports at every width), <see cref="Iterations"/> times, so one invocation
/// performs 2·lanes·K·Iterations flops. The GFLOP/s column of the best K at the widest width is the peak the GEMV,
/// GEMM and batch results are compared with (tools/benchmark_floors.py). m and c keep the values finite and normal
/// (acc → c / (1 − m)).
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[FmaGflopsColumn]
public class FmaPeakBenchmarks
{
    /// <summary>The loop's iteration count.</summary>
    public const int Iterations = 1 << 20;

    /// <summary>The vector width in bits.</summary>
    [ParamsSource(nameof(Widths))]
    public int Bits { get; set; }

    /// <summary>The widths this machine accelerates.</summary>
    public static IEnumerable<int> Widths() => MachineVectors.AcceleratedBits();

    [GlobalSetup]
    public void Setup()
    {
        if (!System.Runtime.Intrinsics.X86.Fma.IsSupported && !System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported)
            throw new PlatformNotSupportedException("The FMA peak benchmark needs a hardware fused multiply-add.");
    }

    /// <summary>10 chains: 2·lanes·10·<see cref="Iterations"/> flops.</summary>
    [Benchmark(Baseline = true)]
    [FlopCount(2.0 * 10 * Iterations)]
    public float Chains10() => Bits switch
    {
        512 => Chains10<Machine512>(),
        256 => Chains10<Machine256>(),
        _ => Chains10<Machine128>(),
    };

    /// <summary>12 chains: 2·lanes·12·<see cref="Iterations"/> flops.</summary>
    [Benchmark]
    [FlopCount(2.0 * 12 * Iterations)]
    public float Chains12() => Bits switch
    {
        512 => Chains12<Machine512>(),
        256 => Chains12<Machine256>(),
        _ => Chains12<Machine128>(),
    };

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chains10<TVector>() where TVector : struct, IMachineVector<TVector>
    {
        TVector m = TVector.Create(0.999999f), c = TVector.Create(1e-6f);
        TVector a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c;
        for (int k = 0; k < Iterations; k++)
        {
            a0 = TVector.FusedMultiplyAdd(a0, m, c); a1 = TVector.FusedMultiplyAdd(a1, m, c);
            a2 = TVector.FusedMultiplyAdd(a2, m, c); a3 = TVector.FusedMultiplyAdd(a3, m, c);
            a4 = TVector.FusedMultiplyAdd(a4, m, c); a5 = TVector.FusedMultiplyAdd(a5, m, c);
            a6 = TVector.FusedMultiplyAdd(a6, m, c); a7 = TVector.FusedMultiplyAdd(a7, m, c);
            a8 = TVector.FusedMultiplyAdd(a8, m, c); a9 = TVector.FusedMultiplyAdd(a9, m, c);
        }
        var s = TVector.Add(TVector.Add(TVector.Add(a0, a1), TVector.Add(a2, a3)), TVector.Add(TVector.Add(a4, a5), TVector.Add(a6, a7)));
        return TVector.Sum(TVector.Add(s, TVector.Add(a8, a9)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chains12<TVector>() where TVector : struct, IMachineVector<TVector>
    {
        TVector m = TVector.Create(0.999999f), c = TVector.Create(1e-6f);
        TVector a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c;
        for (int k = 0; k < Iterations; k++)
        {
            a0 = TVector.FusedMultiplyAdd(a0, m, c); a1 = TVector.FusedMultiplyAdd(a1, m, c);
            a2 = TVector.FusedMultiplyAdd(a2, m, c); a3 = TVector.FusedMultiplyAdd(a3, m, c);
            a4 = TVector.FusedMultiplyAdd(a4, m, c); a5 = TVector.FusedMultiplyAdd(a5, m, c);
            a6 = TVector.FusedMultiplyAdd(a6, m, c); a7 = TVector.FusedMultiplyAdd(a7, m, c);
            a8 = TVector.FusedMultiplyAdd(a8, m, c); a9 = TVector.FusedMultiplyAdd(a9, m, c);
            a10 = TVector.FusedMultiplyAdd(a10, m, c); a11 = TVector.FusedMultiplyAdd(a11, m, c);
        }
        var s = TVector.Add(TVector.Add(TVector.Add(a0, a1), TVector.Add(a2, a3)), TVector.Add(TVector.Add(a4, a5), TVector.Add(a6, a7)));
        return TVector.Sum(TVector.Add(s, TVector.Add(TVector.Add(a8, a9), TVector.Add(a10, a11))));
    }
}

/// <summary>Adds the <see cref="FmaGflopsColumn"/> to a benchmark class.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class FmaGflopsColumnAttribute() : BenchmarkDotNet.Attributes.ColumnConfigBaseAttribute(new FmaGflopsColumn());

/// <summary>
/// GFLOP/s of a benchmark whose <see cref="FlopCountAttribute"/> counts the flops of one lane and whose <c>Bits</c>
/// parameter gives the vector width: flops = count × Bits / 32.
/// </summary>
public sealed class FmaGflopsColumn : RateColumnBase
{
    public override string ColumnName => "GFLOP/s";
    public override string Legend => "Floating-point operations per second (10^9), from the median";

    protected override double PerInvocation(BenchmarkCase benchmarkCase)
    {
        double? perLane = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<FlopCountAttribute>()?.Flops;
        return perLane is double flops && benchmarkCase.Parameters["Bits"] is int bits ? flops * bits / 32 : double.NaN;
    }
}
