using SimdRnn.Kernels;

namespace SimdRnn.Networks;

/// <summary>
/// The streaming state of B independent streams through a unidirectional <see cref="RecurrentNetwork"/>: h (and c)
/// for every layer, [L, B, H], persisting between <see cref="Step"/> calls until <see cref="Reset"/>. It owns the
/// scratch a step needs, so a step allocates nothing. One thread at a time; the network itself is shared.
/// A large model's step can be split across cores (<see cref="MaxDegreeOfParallelism"/>, opt-in); dispose the state
/// to end those worker threads.
/// </summary>
public sealed class RecurrentState : IDisposable
{
    private readonly float[] _hidden, _cell;         // [L, B, H]
    private readonly float[] _nextHidden, _nextCell; // [B, H]
    private readonly float[] _projection, _recurrent; // [B, G·H]
    private readonly float[] _resetHidden, _gates;   // GRU without linear-before-reset: [B, H], [B, 2H]
    private readonly float[] _cellScratch;           // one stream's gates (5H)
    private RowSplitStep? _split;                    // the step split by hidden units across workers, when on (issue 13)
    private int _maxDegreeOfParallelism = 1;

    internal RecurrentState(RecurrentNetwork network, int batch)
    {
        ArgumentNullException.ThrowIfNull(network);
        Guard.Positive(batch, nameof(batch));
        var spec = network.Spec;
        if (spec.Bidirectional)
            throw new InvalidOperationException("A bidirectional network needs whole sequences: use a RecurrentSession.");
        Network = network;
        Batch = batch;
        int bh = batch * spec.HiddenSize, lbh = spec.Layers * bh, bgh = batch * spec.Gates * spec.HiddenSize;
        bool resetForm = spec.Cell == CellKind.Gru && !spec.LinearBeforeReset;
        _hidden = new float[lbh];
        _cell = new float[spec.HasCellState ? lbh : 0];
        _nextHidden = new float[bh];
        _nextCell = new float[spec.HasCellState ? bh : 0];
        _projection = new float[bgh];
        _recurrent = new float[bgh];
        _resetHidden = new float[resetForm ? bh : 0];
        _gates = new float[resetForm ? 2 * bh : 0];
        _cellScratch = new float[5 * spec.HiddenSize];
    }

    /// <summary>
    /// The most cores one <see cref="Step"/> uses (default 1: a service with many streams wants one core per stream).
    /// With 2 or more, a large model's step is split by hidden units: each worker thread owns its units' rows of the
    /// weights (in its core's cache), runs their products and gate pass, and the workers meet at a barrier after each
    /// layer (a brief spin, then a blocking wait: idle workers use no CPU). Results are bit-identical to one worker.
    /// The split stays off where it would not pay: below about 3·10⁵ multiply-adds per step and layer (G·H·(H + I)),
    /// for a hidden size that is not a multiple of 16, and for the GRU with linear_before_reset = 0. Setting the value
    /// starts or ends the worker threads; <see cref="Dispose"/> ends them.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        set
        {
            Guard.Positive(value, nameof(value));
            _maxDegreeOfParallelism = value;
            UseWorkers(RowSplitPlan.Workers(Network.Spec, value));
        }
    }

    /// <summary>The number of threads a step runs on now (1 when the split is off).</summary>
    internal int ActiveWorkers => _split?.Workers ?? 1;

    /// <summary>The split step, when on (tests).</summary>
    internal RowSplitStep? Split => _split;

    /// <summary>Splits across <paramref name="workers"/> whatever the model's size (tests of small cases); 1 turns it off.</summary>
    internal void UseWorkersForTests(int workers) => UseWorkers(RowSplitPlan.Workers(Network.Spec, workers, ignoreThreshold: true));

    private void UseWorkers(int workers)
    {
        if (workers == ActiveWorkers) return;
        _split?.Dispose();
        _split = workers > 1 ? new RowSplitStep(Network, Batch, workers, _hidden, _cell) : null;
    }

    /// <summary>Ends the worker threads of a split step (if any). The state stays usable, on one thread.</summary>
    public void Dispose()
    {
        _split?.Dispose();
        _split = null;
        _maxDegreeOfParallelism = 1;
    }

    /// <summary>The network this state runs.</summary>
    public RecurrentNetwork Network { get; }

    /// <summary>B, the number of streams.</summary>
    public int Batch { get; }

    /// <summary>h of every layer, [L, B, H].</summary>
    public ReadOnlySpan<float> Hidden => _hidden;

    /// <summary>c of every layer, [L, B, H] (LSTM; empty otherwise).</summary>
    public ReadOnlySpan<float> Cell => _cell;

    /// <summary>The length of a snapshot: h and c together.</summary>
    public int SnapshotLength => _hidden.Length + _cell.Length;

    /// <summary>Sets h (and c) back to zero.</summary>
    public void Reset()
    {
        Array.Clear(_hidden);
        Array.Clear(_cell);
    }

    /// <summary>Writes h then c into <paramref name="destination"/> (<see cref="SnapshotLength"/> floats).</summary>
    /// <param name="destination">Receives the snapshot.</param>
    /// <exception cref="ArgumentException">The length differs from <see cref="SnapshotLength"/>.</exception>
    public void Save(Span<float> destination)
    {
        Guard.Length(destination, SnapshotLength, nameof(destination));
        _hidden.CopyTo(destination);
        _cell.CopyTo(destination.Slice(_hidden.Length));
    }

    /// <summary>Restores h then c from a snapshot made by <see cref="Save"/> (or written by hand, [L, B, H] each).</summary>
    /// <param name="source">The snapshot.</param>
    /// <exception cref="ArgumentException">The length differs from <see cref="SnapshotLength"/>; nothing changes then.</exception>
    public void Restore(ReadOnlySpan<float> source)
    {
        Guard.Length(source, SnapshotLength, nameof(source));
        source.Slice(0, _hidden.Length).CopyTo(_hidden);
        source.Slice(_hidden.Length).CopyTo(_cell);
    }

    /// <summary>The length in bytes of <see cref="Serialize"/>'s output.</summary>
    public int SerializedLength => StateSerializer.Length(this);

    /// <summary>
    /// Writes h and c as bytes a restarted service can restore with <see cref="Deserialize"/>: a header naming the
    /// architecture and batch (so a snapshot cannot be restored into another network), the floats (little-endian),
    /// and a CRC-32 of everything before it.
    /// </summary>
    /// <param name="destination">At least <see cref="SerializedLength"/> bytes.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException">The destination is too small.</exception>
    public int Serialize(Span<byte> destination) => StateSerializer.Write(this, _hidden, _cell, destination);

    /// <summary>Restores h and c from bytes written by <see cref="Serialize"/> for a network of the same architecture and batch.</summary>
    /// <param name="source">The snapshot.</param>
    /// <exception cref="Interop.ModelFormatException">The snapshot is truncated, corrupted (CRC mismatch), of another format version, or for another architecture or batch; the state is then unchanged.</exception>
    public void Deserialize(ReadOnlySpan<byte> source) => StateSerializer.Read(this, source, _hidden, _cell);

    /// <summary>Copies this state into <paramref name="other"/>, a state of the same network and batch.</summary>
    /// <param name="other">The destination.</param>
    /// <exception cref="ArgumentException">The other state belongs to another network or batch size.</exception>
    public void CopyTo(RecurrentState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!ReferenceEquals(other.Network, Network) || other.Batch != Batch)
            throw new ArgumentException("The other state belongs to another network or batch size.", nameof(other));
        _hidden.CopyTo(other._hidden, 0);
        _cell.CopyTo(other._cell, 0);
    }

    /// <summary>
    /// One time step for all B streams: <paramref name="input"/> [B, I] in, <paramref name="output"/>
    /// [B, <see cref="RecurrentSpec.OutputSize"/>] out (the readout's, or the top layer's h). Allocates nothing.
    /// </summary>
    /// <param name="input">B·I floats.</param>
    /// <param name="output">B·OutputSize floats.</param>
    /// <exception cref="ArgumentException">A length does not fit; the state is then unchanged.</exception>
    public void Step(ReadOnlySpan<float> input, Span<float> output)
    {
        var spec = Network.Spec;
        Guard.Length(input, (long)Batch * spec.InputSize, nameof(input));
        Guard.Length(output, (long)Batch * spec.OutputSize, nameof(output));
        // Validated above; from here on only the unchecked kernels run.
        if (_split is not null) { _split.Step(input, output); return; } // split across workers (RowSplitStep)
        var weights = Network.Weights;
        int h = spec.HiddenSize, bh = Batch * h;
        ReadOnlySpan<float> layerInput = input;
        for (int l = 0; l < spec.Layers; l++)
        {
            var w = weights.Layer(l, 0);
            // P = x·W_ihᵀ + b, then the cell step from this layer's h (and c).
            MatrixProducts.MultiplyFrom(w.Input, w.ProjectionBias, layerInput, Batch, _projection, usePanels: Batch > 1);
            Span<float> hidden = _hidden.AsSpan(l * bh, bh);
            Span<float> cell = spec.HasCellState ? _cell.AsSpan(l * bh, bh) : default;
            RecurrentStep.Forward(spec, Batch, _projection, w, hidden, _nextHidden, cell, _nextCell, default, _resetHidden, _recurrent, _gates, _cellScratch);
            _nextHidden.CopyTo(hidden);
            _nextCell.CopyTo(cell);
            layerInput = hidden;
        }

        if (weights.Readout is { } readout)
        {
            // out = act(h·W_headᵀ + b_head)
            MatrixProducts.MultiplyFrom(readout.Weights, readout.Bias, layerInput, Batch, output, usePanels: Batch > 1);
            if (spec.ReadoutActivation == ReadoutActivation.Sigmoid) Activations.SigmoidUnchecked(output, output);
        }
        else
        {
            layerInput.CopyTo(output);
        }
    }
}
