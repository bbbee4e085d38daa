using BenchmarkDotNet.Attributes;
using SimdRnn.Networks;

namespace SimdRnn.Benchmarks;

/// <summary>
/// Issue 11's targets: the same network with fp32 (the baseline), bf16, int8 and int8-with-int16-activations recurrent weights
/// (<see cref="RecurrentNetwork.WithWeightFormat"/>), beside ONNX Runtime (fp32, one intra-op thread, I/O binding) on
/// the same fp32 weights. Sequences of T = 100 steps of one stream, one core (MaxDegreeOfParallelism = 1), from a zero
/// state. "Ratio" is against fp32; the ratio to ONNX Runtime is fp32's ratio divided by the format's.
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class WeightFormatSequenceBenchmarks
{
    private OrtHarness _ort = null!;
    private RecurrentSession _fp32 = null!, _bf16 = null!, _int8 = null!, _int8Activations = null!;

    /// <summary>The cell.</summary>
    [Params(CellKind.Gru, CellKind.Lstm)]
    public CellKind Cell { get; set; }

    /// <summary>"IxH": input and hidden size.</summary>
    [Params("64x128", "512x512")]
    public string Size { get; set; } = "512x512";

    [GlobalSetup]
    public void Setup()
    {
        var network = OrtHarness.Network(Cell, Size);
        _ort = new OrtHarness(network, 100, 1);
        _fp32 = Session(network);
        _bf16 = Session(network.WithWeightFormat(WeightPrecision.BFloat16));
        _int8 = Session(network.WithWeightFormat(WeightPrecision.Int8));
        _int8Activations = Session(network.WithWeightFormat(WeightPrecision.Int8WithInt16Activations));
        Float32(); BFloat16(); Int8(); Int8Int16Activations(); // sizes the sessions' buffers and makes the lazy copies
    }

    private static RecurrentSession Session(RecurrentNetwork network)
    {
        var session = network.CreateSession();
        session.MaxDegreeOfParallelism = 1;
        return session;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ort.Dispose();
        _fp32.Dispose();
        _bf16.Dispose();
        _int8.Dispose();
        _int8Activations.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Float32() => _ort.RunSimdRnn(_fp32);

    [Benchmark]
    public void BFloat16() => _ort.RunSimdRnn(_bf16);

    [Benchmark]
    public void Int8() => _ort.RunSimdRnn(_int8);

    /// <summary>int8 weights with int16 activations (<see cref="WeightPrecision.Int8WithInt16Activations"/>).</summary>
    [Benchmark]
    public void Int8Int16Activations() => _ort.RunSimdRnn(_int8Activations);

    [Benchmark]
    public void OnnxRuntime() => _ort.Run();
}

/// <summary>
/// Issue 11's step targets: one streaming step of one stream with fp32 (the baseline), bf16 and int8 recurrent
/// weights, at 64→128 (beside ONNX Runtime's step, as in <see cref="OnnxRuntimeStepBenchmarks"/>) and 1024→1024.
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class WeightFormatStepBenchmarks
{
    private OrtHarness? _ort;
    private RecurrentState _fp32 = null!, _bf16 = null!, _int8 = null!, _int8Activations = null!;
    private float[] _x = [], _y = [];

    /// <summary>The cell.</summary>
    [Params(CellKind.Gru, CellKind.Lstm)]
    public CellKind Cell { get; set; }

    /// <summary>"IxH": input and hidden size.</summary>
    [Params("64x128", "1024x1024")]
    public string Size { get; set; } = "64x128";

    [GlobalSetup]
    public void Setup()
    {
        var network = OrtHarness.Network(Cell, Size);
        if (Size == "64x128") _ort = new OrtHarness(network, 1, 1);
        _fp32 = network.CreateState(1);
        _bf16 = network.WithWeightFormat(WeightPrecision.BFloat16).CreateState(1);
        _int8 = network.WithWeightFormat(WeightPrecision.Int8).CreateState(1);
        _int8Activations = network.WithWeightFormat(WeightPrecision.Int8WithInt16Activations).CreateState(1);
        _x = OrtHarness.Random(network.Spec.InputSize, 7);
        _y = new float[network.Spec.OutputSize];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ort?.Dispose();
        _fp32.Dispose();
        _bf16.Dispose();
        _int8.Dispose();
        _int8Activations.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Float32() => _fp32.Step(_x, _y);

    [Benchmark]
    public void BFloat16() => _bf16.Step(_x, _y);

    [Benchmark]
    public void Int8() => _int8.Step(_x, _y);

    /// <summary>int8 weights with int16 activations.</summary>
    [Benchmark]
    public void Int8Int16Activations() => _int8Activations.Step(_x, _y);

    /// <summary>ONNX Runtime's step at 64→128 (nothing at 1024→1024, where the issue compares formats only).</summary>
    [Benchmark]
    public void OnnxRuntime()
    {
        if (_ort is null) return;
        _ort.CarryState();
        _ort.Run();
    }
}
