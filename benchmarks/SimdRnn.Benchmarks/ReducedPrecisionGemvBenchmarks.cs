using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Running;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Benchmarks;

/// <summary>
/// y += W·x with W stored in fp32 (the baseline, <c>Gemv.MultiplyAccumulateAt</c>), bfloat16 and int8 with one scale
/// per row (issue 11; <see cref="WeightQuantization"/>), at each width the machine supports. The shapes: 384×192
/// (W fits in L2 in every format), 1536×768 (4.7 MB in fp32: beyond L2, in L3), 1024×1024 and 3072×1024 (a GRU's
/// W_hh for 1024 hidden units, the streaming-step shape: 12.6 MB in fp32). Each format's weights start on a
/// 64-byte boundary, as the networks keep them. A GEMV at batch 1 reads every weight once, so once W leaves L2 it is
/// bound by bandwidth: 2 or 4× fewer bytes per weight should show as up to 2 or 4× less time, which the
/// "Weight GB/s" column (weight bytes read per second) makes visible. <c>PairedBFloat16</c> is the bf16 kernel networks
/// run (the paired column layout, panels of eight vectors of the width measured, as a process whose widest width it is
/// packs them; the row-major bf16 kernel it replaced measured 1.2–1.9× slower at 512 bits, docs/benchmarks.md).
/// <c>SIMDRNN_BENCH_GEMV_SHAPES</c> ("384x64,384x128") and <c>SIMDRNN_BENCH_WIDTHS</c> ("512,256") shorten a run.
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[GflopsColumn]
[WeightBandwidthColumn]
public class ReducedPrecisionGemvBenchmarks
{
    private AlignedFloats _w = new(0);
    private AlignedBuffer<ushort> _paired = new(0);
    private AlignedBuffer<sbyte> _q = new(0);
    private float[] _scales = [], _x = [], _y = [];
    private int _rows, _cols, _panelRows;
    private Width _width;

    /// <summary>The shapes "MxN".</summary>
    public static IEnumerable<string> Shapes =>
        Environment.GetEnvironmentVariable("SIMDRNN_BENCH_GEMV_SHAPES") is { Length: > 0 } only
            ? only.Split(',')
            : ["384x192", "1536x768", "1024x1024", "3072x1024"];

    /// <summary>The widths this machine supports, in bits per vector (32: the scalar twin).</summary>
    public static IEnumerable<int> VectorBitsValues =>
        Environment.GetEnvironmentVariable("SIMDRNN_BENCH_WIDTHS") is { Length: > 0 } only
            ? only.Split(',').Select(int.Parse).Where(bits => VectorWidth.Supported.Any(w => VectorWidth.Bits(w) == bits))
            : VectorWidth.Supported.Select(VectorWidth.Bits);

    /// <summary>The shape "MxN" (M rows, N columns).</summary>
    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "384x192";

    /// <summary>The kernel width in bits (32 = one lane).</summary>
    [ParamsSource(nameof(VectorBitsValues))]
    public int VectorBits { get; set; } = 32;

    [GlobalSetup]
    public void Setup()
    {
        (_rows, _cols) = GflopsColumn.ParseShape(Shape);
        _width = VectorWidth.Supported.First(w => VectorWidth.Bits(w) == VectorBits);
        if (VectorWidth.Lanes(_width) > _cols) throw new InvalidOperationException($"{VectorBits} bits do not fit {_cols} columns.");
        var random = new Random(45);
        float[] w = GemvBenchmarks.Fill(random, _rows * _cols);
        _w = new AlignedFloats(w);
        var bits = new ushort[w.Length];
        WeightQuantization.ToBFloat16(w, bits);
        _panelRows = Gemv.PairedPanelRows(_width); // as a process whose widest width is this one packs it
        _paired = new AlignedBuffer<ushort>(Gemv.PairedLength(_rows, _cols));
        for (int i = 0; i < _rows; i++)
            for (int j = 0; j < _cols; j++)
                _paired.Span[Gemv.PairedIndex(_rows, _cols, _panelRows, i, j)] = bits[i * _cols + j];
        _q = new AlignedBuffer<sbyte>(w.Length);
        _scales = new float[_rows];
        WeightQuantization.QuantizeRows(w, _rows, _cols, _q.Span, _scales);
        _x = GemvBenchmarks.Fill(random, _cols);
        _y = new float[_rows];
    }

    [Benchmark(Baseline = true)]
    public void Fp32() => Gemv.MultiplyAccumulateAt(_width, _w.Span, _rows, _cols, _x, _y);

    [Benchmark]
    public void PairedBFloat16() => Gemv.MultiplyAccumulatePairedBFloat16At(_width, _paired.Span, _rows, _cols, _panelRows, 0, _rows, _x, _y);

    [Benchmark]
    public void Int8() => Gemv.MultiplyAccumulateInt8At(_width, _q.Span, _scales, _rows, _cols, _x, _y);
}

/// <summary>Adds the <see cref="WeightBandwidthColumn"/> to a benchmark class.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class WeightBandwidthColumnAttribute() : ColumnConfigBaseAttribute(new WeightBandwidthColumn());

/// <summary>
/// "Weight GB/s": the bytes of W read per invocation (M·N × 4 for <c>Fp32</c>, × 2 for <c>BFloat16</c>, × 1 plus the
/// 4·M bytes of scales for <c>Int8</c>, from the <c>Shape</c> parameter "MxN") / median nanoseconds.
/// </summary>
public sealed class WeightBandwidthColumn : RateColumnBase
{
    public override string ColumnName => "Weight GB/s";
    public override string Legend => "Weight bytes read per second (10^9), from the median";
    protected override string Format => "F1";

    protected override double PerInvocation(BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Parameters["Shape"] is not string shape) return double.NaN;
        (int rows, int cols) = ParseShape(shape);
        double elements = (double)rows * cols;
        return benchmarkCase.Descriptor.WorkloadMethod.Name switch
        {
            nameof(ReducedPrecisionGemvBenchmarks.Fp32) => 4 * elements,
            nameof(ReducedPrecisionGemvBenchmarks.PairedBFloat16) => 2 * elements,
            nameof(ReducedPrecisionGemvBenchmarks.Int8) => elements + 4.0 * rows,
            _ => double.NaN,
        };
    }
}
