using SimdRnn.Kernels;

namespace SimdRnn.Networks;

/// <summary>
/// A <see cref="RecurrentSession"/>'s forward pass for a small batch (B = 1) split by hidden units across a
/// <see cref="RowSplitTeam"/> (see <see cref="RowSplitPlan"/>): the same computation as <see cref="SequenceEngine.Forward"/>
/// in inference, bit for bit. Per layer and direction, each worker projects all T·B input rows onto its own units'
/// gate rows (its rows of W_ih: the GEMM split by output columns, into a projection only it reads), then walks time:
/// its rows of <c>Q = H_prev·W_hhᵀ</c>, its units' gate pass into the shared time-ordered h (and c) slots, and one
/// barrier per step so that every worker sees the whole h_t before step t + 1. Then each worker gathers its units
/// into the layer output, one barrier, and the next layer. The readout splits by rows of time. Buffers grow only for
/// a longer or wider input than before; a run allocates nothing else.
/// </summary>
internal sealed class RowSplitSequence : RowSplitJob, IDisposable
{
    private readonly RecurrentSpec _spec;
    private readonly NetworkWeights _weights;
    private readonly RowSplitTeam _team;
    private readonly RowSplitLayer[][] _shares;     // [worker][layer·D + direction]
    private readonly float[][] _hidden, _cell;      // [layer·D + direction]: [(T + 1)·B, H]
    private readonly float[][] _projection, _recurrent, _scratch; // per worker
    private readonly float[][] _layerOutputs = [[], []]; // ping-pong [T·B, D·H]
    private float[] _input = [], _readout = [];     // [T·B, I], [T·B, O]
    private int _steps, _batch;

    public RowSplitSequence(RecurrentNetwork network, int workers)
    {
        _spec = network.Spec;
        _weights = network.Weights;
        _shares = RowSplitLayer.For(_spec, _weights, workers);
        int states = _spec.Layers * _spec.Directions;
        _hidden = new float[states][];
        _cell = new float[states][];
        Array.Fill(_hidden, []);
        Array.Fill(_cell, []);
        _projection = new float[workers][];
        _recurrent = new float[workers][];
        _scratch = new float[workers][];
        for (int k = 0; k < workers; k++)
        {
            _projection[k] = [];
            _recurrent[k] = [];
            _scratch[k] = new float[5 * _shares[k][0].Units];
        }
        _team = new RowSplitTeam(workers);
    }

    /// <summary>The number of workers, the calling thread included.</summary>
    public int Workers => _team.Workers;

    /// <summary>The team (tests run their own jobs on it).</summary>
    internal RowSplitTeam Team => _team;

    /// <summary>
    /// The forward pass, with <c>RecurrentSession.Run</c>'s arguments (already validated; T ≥ 1): input in the
    /// spec's layout, outputs written in it.
    /// </summary>
    public void Run(ReadOnlySpan<float> input, int steps, int batch, Span<float> output,
        ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell, Span<float> finalHidden, Span<float> finalCell, Span<float> layerOutput)
    {
        var spec = _spec;
        int h = spec.HiddenSize, bh = batch * h, rows = steps * batch;
        EnsureCapacity(steps, batch);
        _steps = steps;
        _batch = batch;
        Span<float> sequenceFirst = _input.AsSpan(0, rows * spec.InputSize);
        if (spec.BatchFirst) SequenceLayout.SwapLeadingAxes(input, batch, steps, spec.InputSize, sequenceFirst);
        else input.CopyTo(sequenceFirst);
        for (int ld = 0; ld < spec.Layers * spec.Directions; ld++)
        {
            // h_0 (and c_0) into the slot the direction starts from: 0 forward, T reverse.
            int initialSlot = ld % spec.Directions == 0 ? 0 : steps;
            CopyOrClear(initialHidden, ld * bh, bh, _hidden[ld].AsSpan(initialSlot * bh, bh));
            if (spec.HasCellState) CopyOrClear(initialCell, ld * bh, bh, _cell[ld].AsSpan(initialSlot * bh, bh));
        }

        _team.Run(this);

        for (int ld = 0; ld < spec.Layers * spec.Directions; ld++)
        {
            int finalSlot = ld % spec.Directions == 0 ? steps : 0;
            if (!finalHidden.IsEmpty) _hidden[ld].AsSpan(finalSlot * bh, bh).CopyTo(finalHidden.Slice(ld * bh, bh));
            if (!finalCell.IsEmpty) _cell[ld].AsSpan(finalSlot * bh, bh).CopyTo(finalCell.Slice(ld * bh, bh));
        }
        ReadOnlySpan<float> top = _layerOutputs[(spec.Layers - 1) % 2].AsSpan(0, rows * spec.LayerOutputSize);
        if (spec.ReadoutSize > 0)
        {
            Write(_readout.AsSpan(0, rows * spec.ReadoutSize), steps, batch, spec.ReadoutSize, output);
            if (!layerOutput.IsEmpty) Write(top, steps, batch, spec.LayerOutputSize, layerOutput);
        }
        else
        {
            Write(top, steps, batch, spec.LayerOutputSize, output);
        }
    }

    public override void Run(int worker)
    {
        var spec = _spec;
        var barrier = _team.Barrier;
        int steps = _steps, batch = _batch, rows = steps * batch, h = spec.HiddenSize, bh = batch * h, dh = spec.LayerOutputSize;
        ReadOnlySpan<float> layerInput = _input.AsSpan(0, rows * spec.InputSize);
        for (int l = 0; l < spec.Layers; l++)
        {
            Span<float> layerOutput = _layerOutputs[l % 2].AsSpan(0, rows * dh);
            for (int d = 0; d < spec.Directions; d++)
            {
                int ld = l * spec.Directions + d;
                var share = _shares[worker][ld];
                int first = share.First, units = share.Units, gu = spec.Gates * units;
                Span<float> hidden = _hidden[ld].AsSpan(0, (steps + 1) * bh);
                Span<float> cell = spec.HasCellState ? _cell[ld].AsSpan(0, (steps + 1) * bh) : default;
                Span<float> q = _recurrent[worker].AsSpan(0, batch * gu);

                // P_w = X·W_ih,wᵀ + b_w: every step's projection onto this worker's gate rows, in one product.
                Span<float> projection = _projection[worker].AsSpan(0, rows * gu);
                MatrixProducts.MultiplyFrom(share.Input, share.Bias, layerInput, rows, projection);

                // Snake order for a share of W_hh larger than half of L2 (MatrixProducts.MultiplyOneRow).
                bool snake = share.Recurrent.StoredBytes >= MatrixProducts.DescendingMinBytes;
                for (int s = 0; s < steps; s++)
                {
                    int t = d == 0 ? s : steps - 1 - s;
                    int prev = d == 0 ? t : t + 1, next = d == 0 ? t + 1 : t;
                    // Q_w = H_prev·W_hh,wᵀ, then the gate pass of this worker's units for every stream.
                    MatrixProducts.Multiply(share.Recurrent, hidden.Slice(prev * bh, bh), batch, q, accumulate: false, descending: snake && (s & 1) == 1);
                    for (int b = 0; b < batch; b++)
                    {
                        int unitPrev = prev * bh + b * h + first, unitNext = next * bh + b * h + first;
                        share.Cell(projection.Slice((t * batch + b) * gu, gu), q.Slice(b * gu, gu),
                            hidden.Slice(unitPrev, units), hidden.Slice(unitNext, units),
                            spec.HasCellState ? cell.Slice(unitPrev, units) : default, spec.HasCellState ? cell.Slice(unitNext, units) : default,
                            _scratch[worker]);
                    }
                    // h_t complete: every worker's units written, every worker done reading h_{t−1}.
                    barrier.SignalAndWait();
                }

                // This worker's units of the layer output at t: [h_fwd(t), h_rev(t)].
                int firstOut = d == 0 ? 1 : 0;
                for (int r = 0; r < rows; r++)
                    hidden.Slice((firstOut * batch + r) * h + first, units).CopyTo(layerOutput.Slice(r * dh + d * h + first, units));
            }
            // The layer output complete before the next layer projects it (or the readout reads it).
            barrier.SignalAndWait();
            layerInput = layerOutput;
        }

        if (_weights.Readout is { } head)
        {
            // out = act(Y·W_headᵀ + b_head) by rows of time: each worker a contiguous block of at least two rows (so
            // every block takes the same GEMM path as the whole), or worker 0 all of them.
            int o = spec.ReadoutSize, workers = _team.Workers;
            bool split = rows >= 2 * workers;
            if (!split && worker != 0) return;
            int start = split ? (int)((long)rows * worker / workers) : 0, end = split ? (int)((long)rows * (worker + 1) / workers) : rows;
            int count = end - start;
            Span<float> readout = _readout.AsSpan(start * o, count * o);
            MatrixProducts.MultiplyFrom(head.Weights, head.Bias, layerInput.Slice(start * dh, count * dh), count, readout);
            if (spec.ReadoutActivation == ReadoutActivation.Sigmoid) Activations.SigmoidUnchecked(readout, readout);
        }
    }

    private void EnsureCapacity(int steps, int batch)
    {
        var spec = _spec;
        int rows = steps * batch, states = (steps + 1) * batch * spec.HiddenSize;
        Grow(ref _input, rows * spec.InputSize);
        Grow(ref _layerOutputs[0], rows * spec.LayerOutputSize);
        Grow(ref _layerOutputs[1], rows * spec.LayerOutputSize);
        Grow(ref _readout, rows * spec.ReadoutSize);
        for (int ld = 0; ld < _hidden.Length; ld++)
        {
            Grow(ref _hidden[ld], states);
            if (spec.HasCellState) Grow(ref _cell[ld], states);
        }
        for (int k = 0; k < _projection.Length; k++)
        {
            int gu = spec.Gates * _shares[k][0].Units;
            Grow(ref _projection[k], rows * gu);
            Grow(ref _recurrent[k], batch * gu);
        }
    }

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }

    private static void CopyOrClear(ReadOnlySpan<float> source, int offset, int length, Span<float> destination)
    {
        if (source.IsEmpty) destination.Clear();
        else source.Slice(offset, length).CopyTo(destination);
    }

    private void Write(ReadOnlySpan<float> sequenceFirst, int steps, int batch, int width, Span<float> destination)
    {
        if (!_spec.BatchFirst) sequenceFirst.CopyTo(destination);
        else SequenceLayout.SwapLeadingAxes(sequenceFirst, steps, batch, width, destination);
    }

    public void Dispose() => _team.Dispose();
}
