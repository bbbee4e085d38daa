using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Running;

namespace SimdRnn.Benchmarks;

/// <summary>
/// This machine's single-core read bandwidth from each cache level at every vector width it accelerates
/// (<see cref="Bits"/> = 128, 256, 512; widths the hardware lacks are not run): the sum of a 64-byte-aligned float
/// buffer with eight independent accumulators (so neither add latency nor a dependency chain limits it). The buffer
/// sizes are those the GEMV and streaming-step targets read: 24 KiB (fits L1, 32 KiB here), 288 KiB (W of the 384×192
/// GEMV and of one GRU 64→128 step; L2, 1 MiB here) and 4608 KiB (W of the 1536×768 GEMV; beyond L2, in L3). Every
/// GEMV, step or recurrence over W has to read W once, so bytes / these GB/s at the widest width is the floor of its
/// time (tools/benchmark_floors.py); the GEMV's GB/s is 2 × its GFLOP/s (one FMA per 4-byte weight).
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

    /// <summary>The vector width in bits.</summary>
    [ParamsSource(nameof(Widths))]
    public int Bits { get; set; }

    /// <summary>The widths this machine accelerates.</summary>
    public static IEnumerable<int> Widths() => MachineVectors.AcceleratedBits();

    [GlobalSetup]
    public void Setup()
    {
        _length = Kilobytes * 256;
        var ones = new float[_length];
        ones.AsSpan().Fill(1f);
        _data = new AlignedFloats(ones);
    }

    /// <summary>Σ data over loads of <see cref="Bits"/> bits, eight accumulators.</summary>
    [Benchmark]
    public float Read() => Bits switch
    {
        512 => Sum<Machine512>(_data!.Span, _length),
        256 => Sum<Machine256>(_data!.Span, _length),
        _ => Sum<Machine128>(_data!.Span, _length),
    };

    // Σ data[0..length) with eight accumulators; length is a multiple of 8 × 16 floats (every size above is).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static float Sum<TVector>(Span<float> data, int length) where TVector : struct, IMachineVector<TVector>
    {
        ref float p = ref MemoryMarshal.GetReference(data);
        int w = TVector.Count;
        TVector a0 = TVector.Create(0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int i = 0; i < length; i += 8 * w)
        {
            a0 = TVector.Add(a0, TVector.Load(ref p, (nuint)i)); a1 = TVector.Add(a1, TVector.Load(ref p, (nuint)(i + w)));
            a2 = TVector.Add(a2, TVector.Load(ref p, (nuint)(i + 2 * w))); a3 = TVector.Add(a3, TVector.Load(ref p, (nuint)(i + 3 * w)));
            a4 = TVector.Add(a4, TVector.Load(ref p, (nuint)(i + 4 * w))); a5 = TVector.Add(a5, TVector.Load(ref p, (nuint)(i + 5 * w)));
            a6 = TVector.Add(a6, TVector.Load(ref p, (nuint)(i + 6 * w))); a7 = TVector.Add(a7, TVector.Load(ref p, (nuint)(i + 7 * w)));
        }
        return TVector.Sum(TVector.Add(TVector.Add(TVector.Add(a0, a1), TVector.Add(a2, a3)), TVector.Add(TVector.Add(a4, a5), TVector.Add(a6, a7))));
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
