namespace SimdRnn.Networks;

/// <summary>
/// Runs whole sequences through a <see cref="RecurrentNetwork"/>: B streams at once, every layer and direction, the
/// input projection of all T·B rows as one matrix product. Owns its buffers (pooled, grown only for a longer or
/// wider batch than before), so repeated runs allocate nothing. One thread at a time; dispose to return the buffers.
/// </summary>
public sealed partial class RecurrentSession : IDisposable
{
    /// <summary>Below this many multiply-adds per run, a batch is not split across threads (the handoff would cost more).</summary>
    internal const long ParallelThreshold = 2_000_000;

    private readonly SequenceEngine _engine;
    private SequenceEngine[] _partEngines = [];
    private float[][] _partInput = [], _partH0 = [], _partC0 = [], _partHN = [], _partCN = [];
    private BatchWorkers? _workers;
    private readonly Action<int> _runPart;
    private int _parts, _steps, _batch;
    private bool _withH0, _withC0, _withLengths;
    private int[] _lengths = [];
    private int _maxDegreeOfParallelism = Environment.ProcessorCount;

    internal RecurrentSession(RecurrentNetwork network)
    {
        Network = network;
        _engine = new SequenceEngine(network.Layout, training: false);
        _runPart = RunPart;
    }

    /// <summary>
    /// The most threads one <see cref="Run(ReadOnlySpan{float}, int, ReadOnlySpan{int}, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float})"/> uses for a batch of B &gt; 1 sequences (default: the processor count).
    /// The sequences are independent, so the batch is split into contiguous parts run in parallel, each on its own
    /// workspace; results are the same as a serial run to float32 rounding. Worker threads are created on first use,
    /// block while idle, and end with <see cref="Dispose"/>. 1 runs everything on the calling thread.
    /// A single sequence (B = 1) of a large model is instead split by hidden units across that many cores, bit-identical
    /// to one thread (see <see cref="RecurrentState.MaxDegreeOfParallelism"/> for when the split applies).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        set
        {
            Guard.Positive(value, nameof(value));
            _maxDegreeOfParallelism = value;
        }
    }

    /// <summary>The network this session runs.</summary>
    public RecurrentNetwork Network { get; }

    /// <summary>
    /// Runs the sequences in <paramref name="input"/> ([T, B, I], or [B, T, I] when the spec is batch-first) from the
    /// initial states (empty = zeros) and writes the network's output: the readout's [T, B, O] if the network has one,
    /// else the top layer's [T, B, D·H].
    /// </summary>
    /// <param name="input">T·B·I floats.</param>
    /// <param name="batch">B, the number of sequences.</param>
    /// <param name="output">T·B·<see cref="RecurrentSpec.OutputSize"/> floats.</param>
    /// <param name="initialHidden">h_0 [L·D, B, H], or empty for zeros.</param>
    /// <param name="initialCell">c_0 [L·D, B, H] (LSTM), or empty for zeros.</param>
    /// <param name="finalHidden">Receives h_T [L·D, B, H] (for the reverse direction, its state after t = 0), or empty.</param>
    /// <param name="finalCell">Receives c_T (LSTM), or empty.</param>
    /// <param name="layerOutput">Receives the top layer's output [T, B, D·H] when the network has a readout, or empty.</param>
    /// <exception cref="ArgumentException">A length does not fit the spec; nothing is written then.</exception>
    public void Run(ReadOnlySpan<float> input, int batch, Span<float> output,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default,
        Span<float> finalHidden = default, Span<float> finalCell = default, Span<float> layerOutput = default) =>
        Run(input, batch, default, output, initialHidden, initialCell, finalHidden, finalCell, layerOutput);

    /// <summary>
    /// Runs sequences of different lengths, padded to T, with PyTorch's packed-sequence semantics: row b is read at
    /// t &lt; <paramref name="lengths"/>[b] only; its outputs past that are zero; its final states are those after its
    /// own last step (the reverse direction of a bidirectional layer starts at that step). Padded inputs may hold
    /// anything, NaN included: they change no result. Otherwise as <see cref="Run(ReadOnlySpan{float}, int, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float})"/>.
    /// </summary>
    /// <param name="input">T·B·I floats, T the longest length (or more).</param>
    /// <param name="batch">B, the number of sequences.</param>
    /// <param name="lengths">B lengths in 1..T, in any order; empty = every sequence is T long.</param>
    /// <param name="output">T·B·<see cref="RecurrentSpec.OutputSize"/> floats.</param>
    /// <param name="initialHidden">h_0 [L·D, B, H], or empty for zeros.</param>
    /// <param name="initialCell">c_0 [L·D, B, H] (LSTM), or empty for zeros.</param>
    /// <param name="finalHidden">Receives each sequence's last h [L·D, B, H], or empty.</param>
    /// <param name="finalCell">Receives each sequence's last c (LSTM), or empty.</param>
    /// <param name="layerOutput">Receives the top layer's output [T, B, D·H] when the network has a readout, or empty.</param>
    /// <exception cref="ArgumentException">A length does not fit the spec, or a sequence length is outside 1..T, or there are not B of them; nothing is written then.</exception>
    public void Run(ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, Span<float> output,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default,
        Span<float> finalHidden = default, Span<float> finalCell = default, Span<float> layerOutput = default)
    {
        var spec = Network.Spec;
        int steps = SequenceArguments.Steps(spec, input, batch);
        if (!lengths.IsEmpty) SequenceArguments.Lengths(lengths, steps, batch, nameof(lengths));
        SequenceArguments.PerStep(output, steps, batch, spec.OutputSize, nameof(output));
        SequenceArguments.State(spec, initialHidden, batch, false, nameof(initialHidden));
        SequenceArguments.State(spec, initialCell, batch, true, nameof(initialCell));
        SequenceArguments.State(spec, finalHidden, batch, false, nameof(finalHidden));
        SequenceArguments.State(spec, finalCell, batch, true, nameof(finalCell));
        if (spec.ReadoutSize > 0) SequenceArguments.OptionalPerStep(layerOutput, steps, batch, spec.LayerOutputSize, nameof(layerOutput));
        else if (!layerOutput.IsEmpty) throw new ArgumentException("Without a readout the layer output is the output; pass an empty span.", nameof(layerOutput));

        // With lengths, only a batch of one full-length sequence takes the split (it has no padded steps to skip).
        if ((lengths.IsEmpty || (batch == 1 && lengths[0] == steps)) && RowSplit(batch, steps) is { } rowSplit) { rowSplit.Run(input, steps, batch, output, initialHidden, initialCell, finalHidden, finalCell, layerOutput); return; } // B = 1, large model: split by hidden units (RecurrentSession.RowSplit.cs)
        int parts = Math.Min(_maxDegreeOfParallelism, batch);
        long work = (long)steps * batch * spec.Layers * spec.Directions * spec.Gates * spec.HiddenSize * (spec.InputSize + spec.HiddenSize);
        if (parts > 1 && work >= ParallelThreshold)
        {
            RunParallel(parts, input, steps, batch, output, initialHidden, initialCell, finalHidden, finalCell, layerOutput, lengths);
            return;
        }

        ReadOnlySpan<float> sequenceFirst = input;
        if (spec.BatchFirst)
        {
            Span<float> buffer = _engine.InputBuffer(steps, batch);
            SequenceLayout.SwapLeadingAxes(input, batch, steps, spec.InputSize, buffer);
            sequenceFirst = buffer;
        }
        // Sequence-first (or one stream, where both layouts are one), the top layer's states can go straight into the
        // caller's layer output (the output itself without a readout), unless it overlaps another span the pass reads
        // or writes after it (then the copies below keep the order of writes they always had).
        Span<float> top = spec.ReadoutSize > 0 ? layerOutput : output;
        if ((spec.BatchFirst && batch != 1) || top.Overlaps(input) || top.Overlaps(finalHidden) || top.Overlaps(finalCell)
            || (spec.ReadoutSize > 0 && top.Overlaps(output)))
            top = default;
        bool wroteTop = _engine.Forward(Network.Weights, sequenceFirst, steps, batch, initialHidden, initialCell, finalHidden, finalCell, lengths, top);
        if (spec.ReadoutSize > 0)
        {
            WriteSequence(_engine.ReadoutOutput, steps, batch, spec.ReadoutSize, output);
            if (!layerOutput.IsEmpty && !wroteTop) WriteSequence(_engine.TopOutput, steps, batch, spec.LayerOutputSize, layerOutput);
        }
        else if (!wroteTop)
        {
            WriteSequence(_engine.TopOutput, steps, batch, spec.LayerOutputSize, output);
        }
    }

    /// <summary>Rows per chunk of the input projection on the one-thread path (0: automatic; tests of chunk boundaries).</summary>
    internal int ProjectionChunkRowsForTests { set => _engine.ProjectionChunkRowsOverride = value; }

    /// <summary>The least bytes of W_hh a B = 1 sequence reads in snake order (tests: 0 for every matrix, <see cref="long.MaxValue"/> for none).</summary>
    internal long SnakeMinBytesForTests { set => _engine.SnakeMinBytesOverride = value; }

    /// <summary>Runs through the parallel path whatever the size (tests of small cases).</summary>
    internal void RunParallelForTests(ReadOnlySpan<float> input, int batch, Span<float> output, ReadOnlySpan<float> initialHidden,
        ReadOnlySpan<float> initialCell, Span<float> finalHidden, Span<float> finalCell, Span<float> layerOutput, ReadOnlySpan<int> lengths = default)
    {
        int steps = SequenceArguments.Steps(Network.Spec, input, batch);
        int parts = Math.Min(_maxDegreeOfParallelism, batch);
        if (parts < 2 || steps == 0) Run(input, batch, lengths, output, initialHidden, initialCell, finalHidden, finalCell, layerOutput);
        else RunParallel(parts, input, steps, batch, output, initialHidden, initialCell, finalHidden, finalCell, layerOutput, lengths);
    }

    private void RunParallel(int parts, ReadOnlySpan<float> input, int steps, int batch, Span<float> output,
        ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell, Span<float> finalHidden, Span<float> finalCell, Span<float> layerOutput,
        ReadOnlySpan<int> lengths)
    {
        var spec = Network.Spec;
        EnsureParts(parts);
        _withLengths = !lengths.IsEmpty;
        if (_withLengths)
        {
            if (_lengths.Length < batch) _lengths = new int[batch];
            lengths.CopyTo(_lengths);
        }
        _parts = parts;
        _steps = steps;
        _batch = batch;
        _withH0 = !initialHidden.IsEmpty;
        _withC0 = !initialCell.IsEmpty;
        int states = spec.Layers * spec.Directions, h = spec.HiddenSize;

        // Gather each part's sequences (stream b of part p at b − start), sequence-first, and its initial states.
        for (int p = 0; p < parts; p++)
        {
            var (start, count) = Part(p, parts, batch);
            Grow(ref _partInput[p], steps * count * spec.InputSize);
            for (int t = 0; t < steps; t++)
                for (int b = 0; b < count; b++)
                {
                    int source = spec.BatchFirst ? ((start + b) * steps + t) * spec.InputSize : (t * batch + start + b) * spec.InputSize;
                    input.Slice(source, spec.InputSize).CopyTo(_partInput[p].AsSpan((t * count + b) * spec.InputSize, spec.InputSize));
                }
            Grow(ref _partHN[p], states * count * h);
            if (spec.HasCellState) Grow(ref _partCN[p], states * count * h);
            if (_withH0) GatherStates(initialHidden, states, batch, start, count, h, ref _partH0[p]);
            if (_withC0) GatherStates(initialCell, states, batch, start, count, h, ref _partC0[p]);
        }

        if (_workers is null || _workers.Workers < parts - 1)
        {
            _workers?.Dispose();
            _workers = new BatchWorkers(parts - 1, _runPart);
        }
        _workers.Run(parts);

        // Scatter outputs and final states back into the caller's layout.
        for (int p = 0; p < parts; p++)
        {
            var (start, count) = Part(p, parts, batch);
            var engine = _partEngines[p];
            if (spec.ReadoutSize > 0)
            {
                Scatter(engine.ReadoutOutput, steps, batch, start, count, spec.ReadoutSize, output);
                if (!layerOutput.IsEmpty) Scatter(engine.TopOutput, steps, batch, start, count, spec.LayerOutputSize, layerOutput);
            }
            else
            {
                Scatter(engine.TopOutput, steps, batch, start, count, spec.LayerOutputSize, output);
            }
            for (int s = 0; s < states; s++)
            {
                if (!finalHidden.IsEmpty) _partHN[p].AsSpan(s * count * h, count * h).CopyTo(finalHidden.Slice((s * batch + start) * h, count * h));
                if (!finalCell.IsEmpty) _partCN[p].AsSpan(s * count * h, count * h).CopyTo(finalCell.Slice((s * batch + start) * h, count * h));
            }
        }
    }

    private void RunPart(int p)
    {
        var spec = Network.Spec;
        var (start, count) = Part(p, _parts, _batch);
        int stateLength = spec.Layers * spec.Directions * count * spec.HiddenSize;
        _partEngines[p].Forward(Network.Weights, _partInput[p].AsSpan(0, _steps * count * spec.InputSize), _steps, count,
            _withH0 ? _partH0[p].AsSpan(0, stateLength) : default, _withC0 ? _partC0[p].AsSpan(0, stateLength) : default,
            _partHN[p].AsSpan(0, stateLength), spec.HasCellState ? _partCN[p].AsSpan(0, stateLength) : default,
            _withLengths ? _lengths.AsSpan(start, count) : default);
    }

    private static (int Start, int Count) Part(int p, int parts, int batch)
    {
        int start = (int)((long)batch * p / parts), end = (int)((long)batch * (p + 1) / parts);
        return (start, end - start);
    }

    private void EnsureParts(int parts)
    {
        if (_partEngines.Length >= parts) return;
        var engines = new SequenceEngine[parts];
        for (int p = 0; p < parts; p++) engines[p] = p < _partEngines.Length ? _partEngines[p] : new SequenceEngine(Network.Layout, training: false, batchPart: true);
        _partEngines = engines;
        Array.Resize(ref _partInput, parts);
        Array.Resize(ref _partH0, parts);
        Array.Resize(ref _partC0, parts);
        Array.Resize(ref _partHN, parts);
        Array.Resize(ref _partCN, parts);
        foreach (var group in new[] { _partInput, _partH0, _partC0, _partHN, _partCN })
            for (int p = 0; p < parts; p++) group[p] ??= [];
    }

    private static void GatherStates(ReadOnlySpan<float> states, int count, int batch, int start, int partBatch, int h, ref float[] destination)
    {
        Grow(ref destination, count * partBatch * h);
        for (int s = 0; s < count; s++)
            states.Slice((s * batch + start) * h, partBatch * h).CopyTo(destination.AsSpan(s * partBatch * h, partBatch * h));
    }

    private void Scatter(ReadOnlySpan<float> part, int steps, int batch, int start, int count, int width, Span<float> destination)
    {
        bool batchFirst = Network.Spec.BatchFirst;
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < count; b++)
            {
                int target = batchFirst ? ((start + b) * steps + t) * width : (t * batch + start + b) * width;
                part.Slice((t * count + b) * width, width).CopyTo(destination.Slice(target, width));
            }
    }

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }

    private void WriteSequence(ReadOnlySpan<float> sequenceFirst, int steps, int batch, int width, Span<float> destination)
    {
        if (!Network.Spec.BatchFirst) sequenceFirst.CopyTo(destination);
        else SequenceLayout.SwapLeadingAxes(sequenceFirst, steps, batch, width, destination);
    }

    /// <summary>Returns the pooled buffers.</summary>
    public void Dispose()
    {
        _engine.Dispose();
        foreach (var engine in _partEngines) engine.Dispose();
        _workers?.Dispose();
        _workers = null;
        _rowSplit?.Dispose(); // the row-split workers (RecurrentSession.RowSplit.cs)
        _rowSplit = null;
    }
}
