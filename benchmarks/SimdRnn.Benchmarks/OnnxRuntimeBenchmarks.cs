using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Microsoft.ML.OnnxRuntime;
using SimdRnn.Networks;
using SimdRnn.Onnx;

namespace SimdRnn.Benchmarks;

/// <summary>
/// Streaming: one time step of one stream (T = 1, B = 1, I = 64, H = 128). SimdRnn steps a
/// <see cref="RecurrentState"/>; ONNX Runtime (the baseline) runs the same network, exported by
/// <see cref="OnnxExport"/>, on one step, with h0 (c0) fed from the previous run's h_n (c_n): copying the state
/// into the input buffers is part of ORT's step.
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[RecurrentGflopsColumn]
public class OnnxRuntimeStepBenchmarks
{
    /// <summary>T, the time steps per invocation.</summary>
    public const int Steps = 1;

    /// <summary>B, the streams per invocation.</summary>
    public const int Batch = 1;

    private OrtHarness _ort = null!;
    private RecurrentState _state = null!;
    private float[] _x = [], _y = [];

    /// <summary>The cell.</summary>
    [Params(CellKind.Gru, CellKind.Lstm)]
    public CellKind Cell { get; set; }

    /// <summary>"IxH": input and hidden size.</summary>
    [Params("64x128")]
    public string Size { get; set; } = "64x128";

    [GlobalSetup]
    public void Setup()
    {
        var network = OrtHarness.Network(Cell, Size);
        _ort = new OrtHarness(network, Steps, Batch);
        _state = network.CreateState(Batch);
        _x = OrtHarness.Random(Batch * network.Spec.InputSize, 7);
        _y = new float[Batch * network.Spec.OutputSize];
    }

    [GlobalCleanup]
    public void Cleanup() => _ort.Dispose();

    [Benchmark(Baseline = true)]
    public void OnnxRuntime()
    {
        _ort.CarryState();
        _ort.Run();
    }

    [Benchmark]
    public void SimdRnn() => _state.Step(_x, _y);
}

/// <summary>
/// Whole sequences: T = 100 steps of one stream, at I = 64, H = 128 and at I = 512, H = 512. SimdRnn runs a
/// <see cref="RecurrentSession"/>; ONNX Runtime (the baseline) the exported model; both from a zero state and both
/// also producing h_n (c_n).
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[RecurrentGflopsColumn]
public class OnnxRuntimeSequenceBenchmarks : OnnxRuntimeRunBenchmarks
{
    /// <summary>T, the time steps per invocation.</summary>
    public const int Steps = 100;

    /// <summary>B, the streams per invocation.</summary>
    public const int Batch = 1;

    /// <summary>"IxH": input and hidden size.</summary>
    [Params("64x128", "512x512")]
    public string Size { get; set; } = "64x128";

    protected override (int Steps, int Batch, string Size) Shape => (Steps, Batch, Size);
}

/// <summary>
/// Shared by the sequence and batch workloads: one ONNX Runtime session (the baseline) and one
/// <see cref="RecurrentSession"/> on one core over the same exported network, from a zero state.
/// </summary>
public abstract class OnnxRuntimeRunBenchmarks
{
    private OrtHarness _ort = null!;
    private RecurrentSession _session = null!;

    /// <summary>The cell.</summary>
    [Params(CellKind.Gru, CellKind.Lstm)]
    public CellKind Cell { get; set; }

    /// <summary>T, B and "IxH" of the workload.</summary>
    protected abstract (int Steps, int Batch, string Size) Shape { get; }

    /// <summary>ONNX Runtime's intra-op threads and SimdRnn's MaxDegreeOfParallelism (1: both on one core).</summary>
    protected virtual int ThreadCount => 1;

    [GlobalSetup]
    public void Setup()
    {
        var (steps, batch, size) = Shape;
        var network = OrtHarness.Network(Cell, size);
        _ort = new OrtHarness(network, steps, batch, ThreadCount);
        _session = network.CreateSession();
        _session.MaxDegreeOfParallelism = ThreadCount; // as many cores as ONNX Runtime's intra-op threads
        SimdRnn(); // sizes the session's buffers
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ort.Dispose();
        _session.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void OnnxRuntime() => _ort.Run();

    [Benchmark]
    public void SimdRnn() => _ort.RunSimdRnn(_session);
}

/// <summary>
/// A batch of sequences: T = 64, B = 64, I = 64, H = 128. SimdRnn runs a <see cref="RecurrentSession"/>; ONNX
/// Runtime (the baseline) the exported model.
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[RecurrentGflopsColumn]
public class OnnxRuntimeBatchBenchmarks : OnnxRuntimeRunBenchmarks
{
    /// <summary>T, the time steps per invocation.</summary>
    public const int Steps = 64;

    /// <summary>B, the streams per invocation.</summary>
    public const int Batch = 64;

    /// <summary>"IxH": input and hidden size.</summary>
    [Params("64x128")]
    public string Size { get; set; } = "64x128";

    /// <summary>
    /// 1: one core each (ONNX Runtime one intra-op thread, SimdRnn MaxDegreeOfParallelism = 1); 2: both cores each.
    /// SimdRnn at 2 against SimdRnn at 1 is read across the two groups of the same run.
    /// </summary>
    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    protected override int ThreadCount => Threads;

    protected override (int Steps, int Batch, string Size) Shape => (Steps, Batch, Size);
}

/// <summary>
/// An ONNX Runtime session over a network exported by <see cref="OnnxExport"/>, at its best: one intra- and one
/// inter-op thread, all graph optimizations, inputs AND outputs pre-allocated as <see cref="OrtValue"/>s over pinned
/// arrays and bound once with an <see cref="OrtIoBinding"/>, so a run allocates no managed memory. Also holds the
/// same input/state/output arrays for SimdRnn.
/// </summary>
internal sealed class OrtHarness : IDisposable
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _options;
    private readonly RunOptions _runOptions = new();
    private readonly OrtIoBinding _binding;
    private readonly List<OrtValue> _values = [];
    private readonly int _batch;

    /// <param name="intraOpThreads">ONNX Runtime's intra-op thread count (1 for the single-core comparisons).</param>
    public OrtHarness(RecurrentNetwork network, int steps, int batch, int intraOpThreads = 1)
    {
        var spec = network.Spec;
        _batch = batch;
        _options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        _session = new InferenceSession(OnnxExport.ToModelBytes(network), _options);
        int state = spec.Layers * spec.Directions * batch * spec.HiddenSize;
        X = Pinned(steps * batch * spec.InputSize);
        Random(X.Length, 1).CopyTo(X, 0);
        H0 = Pinned(state);
        C0 = Pinned(spec.HasCellState ? state : 0);
        Y = Pinned(steps * batch * spec.LayerOutputSize);
        HN = Pinned(state);
        CN = Pinned(spec.HasCellState ? state : 0);
        long[] stateShape = [spec.Layers * spec.Directions, batch, spec.HiddenSize];
        _binding = _session.CreateIoBinding();
        Bind(true, OnnxExport.InputName, X, [steps, batch, spec.InputSize]);
        Bind(true, OnnxExport.InitialHiddenName, H0, stateShape);
        if (spec.HasCellState) Bind(true, OnnxExport.InitialCellName, C0, stateShape);
        Bind(false, OnnxExport.OutputName, Y, [steps, batch, spec.LayerOutputSize]);
        Bind(false, OnnxExport.FinalHiddenName, HN, stateShape);
        if (spec.HasCellState) Bind(false, OnnxExport.FinalCellName, CN, stateShape);
        Run();
    }

    public float[] X { get; }
    public float[] H0 { get; }
    public float[] C0 { get; }
    public float[] Y { get; }
    public float[] HN { get; }
    public float[] CN { get; }

    /// <summary>A network of <paramref name="cell"/> with input and hidden size from "IxH", PyTorch's initialization.</summary>
    public static RecurrentNetwork Network(CellKind cell, string size)
    {
        (int i, int h) = GflopsColumn.ParseShape(size);
        return RecurrentNetwork.CreateRandom(new RecurrentSpec(cell, i, h), 42);
    }

    public static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int k = 0; k < length; k++) values[k] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>Feeds the last run's h_n (c_n) back as h0 (c0).</summary>
    public void CarryState()
    {
        HN.AsSpan().CopyTo(H0);
        CN.AsSpan().CopyTo(C0);
    }

    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    /// <summary>The same sequence in SimdRnn, into the same kinds of buffers.</summary>
    public void RunSimdRnn(RecurrentSession session) => session.Run(X, _batch, Y, H0, C0, HN, CN);

    private static float[] Pinned(int length) => GC.AllocateArray<float>(length, pinned: true);

    private void Bind(bool input, string name, float[] data, long[] shape)
    {
        var value = OrtValue.CreateTensorValueFromMemory(data, shape);
        _values.Add(value);
        if (input) _binding.BindInput(name, value);
        else _binding.BindOutput(name, value);
    }

    public void Dispose()
    {
        _binding.Dispose();
        foreach (var value in _values) value.Dispose();
        _session.Dispose();
        _options.Dispose();
        _runOptions.Dispose();
    }
}

/// <summary>Adds the <see cref="RecurrentGflopsColumn"/> to a benchmark class.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RecurrentGflopsColumnAttribute() : ColumnConfigBaseAttribute(new RecurrentGflopsColumn());

/// <summary>
/// GFLOP/s of a recurrent workload from the median: 2·G·H·(I + H)·B·T flops per invocation (the two matrix products
/// of every gate, per layer; G = 3 GRU, 4 LSTM), with <c>Cell</c> and <c>Size</c> ("IxH") from the parameters and T,
/// B from the class's <c>Steps</c> and <c>Batch</c> constants.
/// </summary>
public sealed class RecurrentGflopsColumn : RateColumnBase
{
    public override string ColumnName => "GFLOP/s";
    public override string Legend => "2·G·H·(I+H)·B·T / median, 10^9 per second";

    protected override double PerInvocation(BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Parameters["Cell"] is not CellKind cell || benchmarkCase.Parameters["Size"] is not string size) return double.NaN;
        (int i, int h) = ParseShape(size);
        var type = benchmarkCase.Descriptor.Type;
        int steps = Constant(type, "Steps"), batch = Constant(type, "Batch");
        int gates = cell switch { CellKind.Gru => 3, CellKind.Lstm => 4, _ => 1 };
        return 2.0 * gates * h * (i + h) * batch * steps;
    }

    private static int Constant(Type type, string name) =>
        (int)(type.GetField(name, BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() ?? 0);
}
