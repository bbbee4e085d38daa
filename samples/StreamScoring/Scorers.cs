using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;
using SimdRnn.Networks;
using SimdRnn.Onnx;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace StreamScoring;

/// <summary>Steps one stream's state by one event and returns the first output (the score).</summary>
internal interface IScorer : IDisposable
{
    string Engine { get; }

    int InputSize { get; }

    int Streams { get; }

    /// <summary>One event of <paramref name="streamId"/>: a stream's events are applied in order, one at a time;
    /// different streams run in parallel.</summary>
    float Score(string streamId, ReadOnlySpan<float> features);
}

/// <summary>SimdRnn: one <see cref="RecurrentState"/> (B = 1) per stream, locked while it steps.</summary>
internal sealed class SimdRnnScorer(RecurrentNetwork network) : IScorer
{
    private readonly ConcurrentDictionary<string, RecurrentState> _states = new(StringComparer.Ordinal);
    private readonly int _outputSize = network.Spec.OutputSize;

    public string Engine => "simdrnn";

    public int InputSize { get; } = network.Spec.InputSize;

    public int Streams => _states.Count;

    public float Score(string streamId, ReadOnlySpan<float> features)
    {
        var state = _states.GetOrAdd(streamId, static (_, n) => n.CreateState(1), network);
        Span<float> output = _outputSize <= 64 ? stackalloc float[_outputSize] : new float[_outputSize];
        lock (state)
        {
            state.Step(features, output);
        }
        return output[0];
    }

    public void Dispose()
    {
    }
}

/// <summary>
/// ONNX Runtime: one <see cref="InferenceSession"/> for the exported network (T = 1, B = 1), driven at its best
/// (one intra/inter-op thread, all graph optimizations, inputs and outputs as <see cref="OrtValue"/>s over pinned
/// arrays bound once with an <see cref="OrtIoBinding"/>, so a run allocates no managed memory). A binding serves one
/// call at a time, so concurrent calls take one from a pool. Each stream's h (and c) lives in its own array, copied
/// into h0 before the run and back from h_n after it, under the stream's lock.
/// </summary>
internal sealed class OnnxScorer : IScorer
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _options;
    private readonly RunOptions _runOptions = new();
    private readonly ConcurrentBag<Binding> _pool = [];
    private readonly ConcurrentBag<Binding> _all = [];
    private readonly ConcurrentDictionary<string, float[]> _states = new(StringComparer.Ordinal);
    private readonly RecurrentSpec _spec;
    private readonly int _stateLength;

    public OnnxScorer(RecurrentNetwork network, string onnxPath)
    {
        _spec = network.Spec;
        if (_spec.Bidirectional) throw new InvalidOperationException("Streaming needs a unidirectional network.");
        _stateLength = _spec.Layers * _spec.HiddenSize;
        OnnxExport.Save(network, onnxPath);
        _options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        _session = new InferenceSession(onnxPath, _options);
        InputSize = _spec.InputSize;
        for (int k = 0; k < Environment.ProcessorCount; k++) _pool.Add(NewBinding());
    }

    public string Engine => "onnx";

    public int InputSize { get; }

    public int Streams => _states.Count;

    public float Score(string streamId, ReadOnlySpan<float> features)
    {
        int cells = _spec.HasCellState ? 2 : 1;
        float[] state = _states.GetOrAdd(streamId, static (_, length) => new float[length], cells * _stateLength);
        if (!_pool.TryTake(out var binding)) binding = NewBinding();
        try
        {
            features.CopyTo(binding.X);
            lock (state)
            {
                state.AsSpan(0, _stateLength).CopyTo(binding.H0);
                if (_spec.HasCellState) state.AsSpan(_stateLength, _stateLength).CopyTo(binding.C0);
                _session.RunWithBinding(_runOptions, binding.IoBinding);
                binding.HN.CopyTo(state, 0);
                if (_spec.HasCellState) binding.CN.CopyTo(state, _stateLength);
            }
            return binding.Score[0];
        }
        finally
        {
            _pool.Add(binding);
        }
    }

    private Binding NewBinding()
    {
        var binding = new Binding(_session, _spec);
        _all.Add(binding);
        return binding;
    }

    public void Dispose()
    {
        foreach (var binding in _all) binding.Dispose();
        _session.Dispose();
        _options.Dispose();
        _runOptions.Dispose();
    }

    private sealed class Binding : IDisposable
    {
        private readonly List<OrtValue> _values = [];

        public Binding(InferenceSession session, RecurrentSpec spec)
        {
            int state = spec.Layers * spec.HiddenSize;
            long[] stateShape = [spec.Layers, 1, spec.HiddenSize];
            X = Pinned(spec.InputSize);
            H0 = Pinned(state);
            C0 = Pinned(spec.HasCellState ? state : 0);
            Y = Pinned(spec.HiddenSize);
            HN = Pinned(state);
            CN = Pinned(spec.HasCellState ? state : 0);
            Out = Pinned(spec.ReadoutSize);
            IoBinding = session.CreateIoBinding();
            Bind(true, OnnxExport.InputName, X, [1, 1, spec.InputSize]);
            Bind(true, OnnxExport.InitialHiddenName, H0, stateShape);
            if (spec.HasCellState) Bind(true, OnnxExport.InitialCellName, C0, stateShape);
            Bind(false, OnnxExport.OutputName, Y, [1, 1, spec.HiddenSize]);
            Bind(false, OnnxExport.FinalHiddenName, HN, stateShape);
            if (spec.HasCellState) Bind(false, OnnxExport.FinalCellName, CN, stateShape);
            if (spec.ReadoutSize > 0) Bind(false, OnnxExport.ReadoutName, Out, [1, 1, spec.ReadoutSize]);
        }

        public OrtIoBinding IoBinding { get; }

        public float[] X { get; }

        public float[] H0 { get; }

        public float[] C0 { get; }

        public float[] Y { get; }

        public float[] HN { get; }

        public float[] CN { get; }

        public float[] Out { get; }

        /// <summary>The readout's output, or the top layer's h without a readout.</summary>
        public float[] Score => Out.Length > 0 ? Out : Y;

        private static float[] Pinned(int length) => GC.AllocateArray<float>(length, pinned: true);

        private void Bind(bool input, string name, float[] data, long[] shape)
        {
            var value = OrtValue.CreateTensorValueFromMemory(data, shape);
            _values.Add(value);
            if (input) IoBinding.BindInput(name, value);
            else IoBinding.BindOutput(name, value);
        }

        public void Dispose()
        {
            IoBinding.Dispose();
            foreach (var value in _values) value.Dispose();
        }
    }
}
