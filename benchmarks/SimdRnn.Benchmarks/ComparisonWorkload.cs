using SimdRnn.Networks;

namespace SimdRnn.Benchmarks;

/// <summary>
/// One ONNX Runtime comparison workload outside BenchmarkDotNet, set up as its benchmark class does (the same network,
/// the same pinned arrays, ONNX Runtime with I/O binding): a streaming step, a sequence or a batch, with ONNX Runtime's
/// intra-op threads and SimdRnn's MaxDegreeOfParallelism (the session's and the step's state's) both at <c>threads</c>. Used by <see cref="ProfileWorkload"/>
/// (one engine in a loop, for a profiler) and <see cref="EngineVersus"/> (both engines in alternating slices).
/// </summary>
internal sealed class ComparisonWorkload : IDisposable
{
    private readonly OrtHarness _harness;
    private readonly RecurrentSession _session;
    private readonly RecurrentState _state;
    private readonly float[] _x, _y;
    private readonly bool _step;

    public ComparisonWorkload(string workload, CellKind cell, string size, WeightPrecision precision, int threads)
    {
        (int steps, int batch) = workload switch
        {
            "step" => (OnnxRuntimeStepBenchmarks.Steps, OnnxRuntimeStepBenchmarks.Batch),
            "sequence" => (OnnxRuntimeSequenceBenchmarks.Steps, OnnxRuntimeSequenceBenchmarks.Batch),
            _ => (OnnxRuntimeBatchBenchmarks.Steps, OnnxRuntimeBatchBenchmarks.Batch),
        };
        _step = workload == "step";
        var master = OrtHarness.Network(cell, size);
        _harness = new OrtHarness(master, steps, batch, threads);
        var network = master.WithWeightFormat(precision);
        _session = network.CreateSession();
        _session.MaxDegreeOfParallelism = threads;
        _state = network.CreateState(batch);
        _state.MaxDegreeOfParallelism = threads; // a step splits across cores only where it pays (RowSplitPlan)
        _x = OrtHarness.Random(batch * network.Spec.InputSize, 7);
        _y = new float[batch * network.Spec.OutputSize];
    }

    /// <summary>"step", "sequence" or "batch".</summary>
    public static bool IsWorkload(string name) => name is "step" or "sequence" or "batch";

    /// <summary>fp32, bf16, int8 or int8-int16 (null: none of them).</summary>
    public static WeightPrecision? Precision(string name) => name switch
    {
        "fp32" => WeightPrecision.Float32,
        "bf16" => WeightPrecision.BFloat16,
        "int8" => WeightPrecision.Int8,
        "int8-int16" => WeightPrecision.Int8WithInt16Activations,
        _ => null,
    };

    /// <summary>ONNX Runtime's invocation, as its benchmark method (a step carries the state it returned into the next).</summary>
    public void RunOnnxRuntime()
    {
        if (_step) _harness.CarryState();
        _harness.Run();
    }

    /// <summary>SimdRnn's invocation, as its benchmark method.</summary>
    public void RunSimdRnn()
    {
        if (_step) _state.Step(_x, _y);
        else _harness.RunSimdRnn(_session);
    }

    public void Dispose()
    {
        _harness.Dispose();
        _session.Dispose();
        _state.Dispose();
    }
}
