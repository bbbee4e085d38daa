using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Running;

namespace SimdRnn.Benchmarks;

/// <summary>
/// This machine's single-core read bandwidth from each cache level: the sum of a 64-byte-aligned float buffer with
/// eight independent accumulators (so neither add latency nor a dependency chain limits it), 256- and 512-bit loads.
/// The buffer sizes are those the GEMV and streaming-step targets read: 24 KB (fits L1), 288 KB (W of the 384×192 GEMV
/// and of one GRU 64→128 step; L2) and 4608 KB (W of the 1536×768 GEMV; beyond L2, in L3). Every GEMV, step or
/// recurrence over W has to read W once, so bytes / these GB/s is the floor of its time; the GEMV's GB/s is
/// 2 × its GFLOP/s (one FMA per 4-byte weight).
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[BandwidthColumn]
public class ReadBandwidthBenchmarks
{
    private AlignedFloats? _data;
    private int _length;

    /// <summary>The buffer's size in KiB.</summary>
    [Params(24, 288, 4608)]
    public int Kilobytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _length = Kilobytes * 256;
        var ones = new float[_length];
        ones.AsSpan().Fill(1f);
        _data = new AlignedFloats(ones);
    }

    /// <summary>Σ data over <see cref="Vector256{T}"/> loads, eight accumulators.</summary>
    [Benchmark(Baseline = true)]
    public float Read256()
    {
        ref float p = ref MemoryMarshal.GetReference(_data!.Span);
        var a0 = Vector256<float>.Zero; Vector256<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int i = 0; i < _length; i += 8 * Vector256<float>.Count)
        {
            a0 += Vector256.LoadUnsafe(ref p, (nuint)i); a1 += Vector256.LoadUnsafe(ref p, (nuint)(i + 8));
            a2 += Vector256.LoadUnsafe(ref p, (nuint)(i + 16)); a3 += Vector256.LoadUnsafe(ref p, (nuint)(i + 24));
            a4 += Vector256.LoadUnsafe(ref p, (nuint)(i + 32)); a5 += Vector256.LoadUnsafe(ref p, (nuint)(i + 40));
            a6 += Vector256.LoadUnsafe(ref p, (nuint)(i + 48)); a7 += Vector256.LoadUnsafe(ref p, (nuint)(i + 56));
        }
        return Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    /// <summary>Σ data over <see cref="Vector512{T}"/> loads, eight accumulators.</summary>
    [Benchmark]
    public float Read512()
    {
        ref float p = ref MemoryMarshal.GetReference(_data!.Span);
        var a0 = Vector512<float>.Zero; Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int i = 0; i < _length; i += 8 * Vector512<float>.Count)
        {
            a0 += Vector512.LoadUnsafe(ref p, (nuint)i); a1 += Vector512.LoadUnsafe(ref p, (nuint)(i + 16));
            a2 += Vector512.LoadUnsafe(ref p, (nuint)(i + 32)); a3 += Vector512.LoadUnsafe(ref p, (nuint)(i + 48));
            a4 += Vector512.LoadUnsafe(ref p, (nuint)(i + 64)); a5 += Vector512.LoadUnsafe(ref p, (nuint)(i + 80));
            a6 += Vector512.LoadUnsafe(ref p, (nuint)(i + 96)); a7 += Vector512.LoadUnsafe(ref p, (nuint)(i + 112));
        }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }
}

/// <summary>Adds the <see cref="BandwidthColumn"/> to a benchmark class.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class BandwidthColumnAttribute() : ColumnConfigBaseAttribute(new BandwidthColumn());

/// <summary>A "GB/s" column: the <c>Kilobytes</c> parameter × 1024 bytes / median nanoseconds.</summary>
public sealed class BandwidthColumn : RateColumnBase
{
    public override string ColumnName => "GB/s";
    public override string Legend => "Bytes read per second (10^9), from the median";
    protected override string Format => "F1";

    protected override double PerInvocation(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Parameters["Kilobytes"] is int kilobytes ? kilobytes * 1024.0 : double.NaN;
}
