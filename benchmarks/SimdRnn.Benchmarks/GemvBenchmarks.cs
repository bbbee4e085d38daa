using SimdRnn.Kernels.Vectors;
using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using System.Numerics.Tensors;
using SimdRnn.Kernels;

namespace SimdRnn.Benchmarks;

/// <summary>
/// y = W·x + b for row-major W (M × N): SimdRnn's <see cref="Gemv.MultiplyAdd"/> against a naive scalar loop (the
/// baseline) and against <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> per row plus the
/// bias. The shapes: the seed document's 3 inputs × 25 hidden units for 3 gates (75×3), two GRU/LSTM-like layers
/// (384×192: W fits in L2; 1536×768: 4.7 MB, beyond L2) and an odd shape with row tails (1027×515). W either as
/// allocated (a plain array, wherever the allocator puts its data: 8- or 16-byte aligned) or starting on a 64-byte boundary, as the
/// networks keep their weights (<c>AlignedFloats</c>); both baselines read the same W.
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[GflopsColumn]
public class GemvBenchmarks
{
    private float[] _w = [], _x = [], _b = [], _y = [];
    private AlignedFloats? _aligned;
    private int _rows, _cols;

    /// <summary>The shapes "MxN".</summary>
    public static IEnumerable<string> Shapes => ["75x3", "384x192", "1536x768", "1027x515"];

    /// <summary>The shape "MxN" (M rows, N columns).</summary>
    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "75x3";

    /// <summary>Whether W starts on a 64-byte boundary.</summary>
    [Params(false, true)]
    public bool AlignedW { get; set; }

    private ReadOnlySpan<float> W => _aligned is null ? _w : _aligned.Span;

    [GlobalSetup]
    public void Setup()
    {
        (_rows, _cols) = GflopsColumn.ParseShape(Shape);
        var random = new Random(42);
        _w = Fill(random, _rows * _cols);
        _aligned = AlignedW ? new AlignedFloats(_w) : null;
        _x = Fill(random, _cols);
        _b = Fill(random, _rows);
        _y = new float[_rows];
    }

    internal static float[] Fill(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>The textbook loop: one scalar multiply-add at a time.</summary>
    [Benchmark(Baseline = true)]
    public void NaiveLoop()
    {
        ReadOnlySpan<float> w = W;
        float[] x = _x, b = _b, y = _y;
        int rows = _rows, cols = _cols;
        for (int i = 0; i < rows; i++)
        {
            float sum = 0f;
            for (int j = 0; j < cols; j++) sum += w[i * cols + j] * x[j];
            y[i] = sum + b[i];
        }
    }

    /// <summary>One vectorized dot product per row (System.Numerics.Tensors), plus the bias.</summary>
    [Benchmark]
    public void TensorPrimitivesDotPerRow()
    {
        ReadOnlySpan<float> w = W, x = _x, b = _b;
        Span<float> y = _y;
        int cols = _cols;
        for (int i = 0; i < y.Length; i++) y[i] = TensorPrimitives.Dot(w.Slice(i * cols, cols), x) + b[i];
    }

    [Benchmark]
    public void SimdRnn() => Gemv.MultiplyAdd(W, _rows, _cols, _x, _b, _y);
}

/// <summary>y += Wᵀ·x at 384×192 (the back-propagation of W·x): the scalar twin (baseline), SimdRnn, and
/// TensorPrimitives.MultiplyAdd per row (y = W[i,:]·x[i] + y).</summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[GflopsColumn]
public class GemvTransposedBenchmarks
{
    private float[] _w = [], _x = [], _y = [];
    private int _rows, _cols;

    /// <summary>The shape "MxN" of W.</summary>
    [Params("384x192")]
    public string Shape { get; set; } = "384x192";

    [GlobalSetup]
    public void Setup()
    {
        (_rows, _cols) = GflopsColumn.ParseShape(Shape);
        var random = new Random(43);
        _w = GemvBenchmarks.Fill(random, _rows * _cols);
        _x = GemvBenchmarks.Fill(random, _rows);
        _y = new float[_cols];
    }

    [Benchmark(Baseline = true)]
    public void ScalarTwin() => Gemv.MultiplyTransposedAccumulateAt(Width.Scalar, _w, _rows, _cols, _x, _y);

    [Benchmark]
    public void TensorPrimitivesMultiplyAddPerRow()
    {
        ReadOnlySpan<float> w = _w, x = _x;
        Span<float> y = _y;
        int cols = _cols;
        for (int i = 0; i < x.Length; i++) TensorPrimitives.MultiplyAdd(w.Slice(i * cols, cols), x[i], y, y);
    }

    [Benchmark]
    public void SimdRnn() => Gemv.MultiplyTransposedAccumulate(_w, _rows, _cols, _x, _y);
}

/// <summary>G += a·bᵀ at 384×192 (a weight gradient): the scalar twin (baseline), SimdRnn, and
/// TensorPrimitives.MultiplyAdd per row (G[i,:] = b·a[i] + G[i,:]).</summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[GflopsColumn]
public class GemvOuterProductBenchmarks
{
    private float[] _g = [], _a = [], _b = [];
    private int _rows, _cols;

    /// <summary>The shape "MxN" of G.</summary>
    [Params("384x192")]
    public string Shape { get; set; } = "384x192";

    [GlobalSetup]
    public void Setup()
    {
        (_rows, _cols) = GflopsColumn.ParseShape(Shape);
        var random = new Random(44);
        _g = new float[_rows * _cols];
        _a = GemvBenchmarks.Fill(random, _rows);
        _b = GemvBenchmarks.Fill(random, _cols);
    }

    [Benchmark(Baseline = true)]
    public void ScalarTwin() => Gemv.AddOuterProductAt(Width.Scalar, _g, _rows, _cols, _a, _b);

    [Benchmark]
    public void TensorPrimitivesMultiplyAddPerRow()
    {
        Span<float> g = _g;
        ReadOnlySpan<float> a = _a, b = _b;
        int cols = _cols;
        for (int i = 0; i < a.Length; i++)
        {
            Span<float> row = g.Slice(i * cols, cols);
            TensorPrimitives.MultiplyAdd(b, a[i], row, row);
        }
    }

    [Benchmark]
    public void SimdRnn() => Gemv.AddOuterProduct(_g, _rows, _cols, _a, _b);
}

/// <summary>The floating-point operations of one invocation of a benchmark method without a <c>Shape</c> parameter.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class FlopCountAttribute(double flops) : Attribute
{
    /// <summary>The operations per invocation.</summary>
    public double Flops { get; } = flops;
}

/// <summary>Adds the <see cref="GflopsColumn"/> to a benchmark class.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class GflopsColumnAttribute() : ColumnConfigBaseAttribute(new GflopsColumn());

/// <summary>
/// A rate column computed from the median: an amount per invocation (flops, bytes) / median nanoseconds, i.e. 10^9 per
/// second. Subclasses name the column and say how much one invocation of a benchmark case does.
/// </summary>
public abstract class RateColumnBase : IColumn
{
    public string Id => GetType().Name;
    public abstract string ColumnName { get; }
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public abstract string Legend { get; }

    /// <summary>The amount one invocation does, or NaN when unknown.</summary>
    protected abstract double PerInvocation(BenchmarkCase benchmarkCase);

    /// <summary>The numeric format of the rate.</summary>
    protected virtual string Format => "F2";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? medianNs = summary[benchmarkCase]?.ResultStatistics?.Median;
        double amount = PerInvocation(benchmarkCase);
        if (medianNs is not > 0 || double.IsNaN(amount)) return "NA";
        return (amount / medianNs.Value).ToString(Format, CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public override string ToString() => ColumnName;

    /// <summary>Parses a "MxN" shape parameter.</summary>
    public static (int Rows, int Cols) ParseShape(string shape)
    {
        int x = shape.IndexOf('x', StringComparison.Ordinal);
        return (int.Parse(shape.AsSpan(0, x), CultureInfo.InvariantCulture), int.Parse(shape.AsSpan(x + 1), CultureInfo.InvariantCulture));
    }
}

/// <summary>
/// GFLOP/s of a matrix kernel: 2·M·N for a benchmark with a <c>Shape</c> parameter "MxN" (one multiply and one add per
/// matrix element), else the method's <see cref="FlopCountAttribute"/>.
/// </summary>
public sealed class GflopsColumn : RateColumnBase
{
    public override string ColumnName => "GFLOP/s";
    public override string Legend => "Floating-point operations per second (10^9), from the median";

    protected override double PerInvocation(BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Parameters["Shape"] is string shape)
        {
            (int rows, int cols) = ParseShape(shape);
            return 2.0 * rows * cols;
        }
        return benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<FlopCountAttribute>()?.Flops ?? double.NaN;
    }
}
