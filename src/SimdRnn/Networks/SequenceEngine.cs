using SimdRnn.Cells;
using SimdRnn.Kernels;

namespace SimdRnn.Networks;

/// <summary>
/// Runs a <see cref="RecurrentSpec"/> over whole sequences of B streams (the forward pass; a training engine also
/// keeps the history that <c>Training/SequenceBackward</c> back-propagates through).
/// It owns every buffer a pass needs (pooled, grown only when a longer or wider batch arrives) and never allocates
/// otherwise. Not thread-safe: one engine per session or trainer.
/// </summary>
/// <remarks>
/// Per layer and direction, the forward pass (1) projects the input rows of a chunk of time steps at once,
/// <c>P = X·W_ihᵀ + b</c>, with one matrix product (all T·B rows when they fit, see <see cref="ProjectionChunkSteps"/>);
/// (2) walks the chunk's time steps, each step one product <c>Q = H_prev·W_hhᵀ</c> for the B streams and one fused
/// cell pass per stream (bias, activations and gate blend). Hidden states are kept in a time-ordered buffer of T + 1
/// slots: the forward direction reads slot t and writes slot t + 1 (slot 0 holds h_0); the reverse direction reads
/// slot t + 1 and writes slot t (slot T holds h_0). So both the outputs and the previous states of all steps are
/// contiguous, which lets back-propagation form every weight gradient as one matrix product over T·B rows. (An inference
/// pass of one direction without lengths may keep the top layer's slots 1..T in the caller's output instead; see
/// <see cref="Forward"/>.)
/// </remarks>
internal sealed class SequenceEngine : IDisposable
{
    private readonly RecurrentLayout _layout;
    private readonly RecurrentSpec _spec;
    private readonly bool _training;
    private readonly bool _oneRowOnGemm;
    private readonly int _h, _gh, _dh, _cacheWidth;
    private int _rowCapacity, _stepCapacity, _batchCapacity;

    // Forward buffers.
    private float[] _input = [];              // sequence-first input [T·B, I]
    private readonly float[][] _layerOutputs; // per layer [T·B, D·H] (training keeps all L; inference alternates 2, rented when a pass gathers)
    private TopSource _top;                   // where the last pass left the top layer's output
    private int _topIndex;                    // ... which of _layerOutputs or _hidden
    private float[] _projection = [];         // P of one chunk of steps [T_chunk·B, G·H]
    private readonly float[][] _hidden;       // per layer·direction [(T+1)·B, H] (inference: 1, or 2 alternating between the layers of a one-direction stack)
    private readonly float[][] _cell;         // LSTM, like _hidden
    private readonly float[][] _cache;        // training: per layer·direction [T·B, S]
    private readonly float[][] _resetHidden;  // GRU, linear_before_reset = 0: r ⊙ h_prev [T·B, H] (inference: [B, H])
    private float[] _recurrent = [];          // Q [B, G·H]
    private float[] _gates = [];              // GRU, linear_before_reset = 0, inference: [r | z] [B, 2H]
    private readonly float[] _cellScratch;    // one stream's gates in inference (5H)
    private float[] _readout = [];            // [T·B, O]
    private float[] _readoutLogits = [];      // training: the readout before its activation [T·B, O]


    private int _steps, _batch;
    private bool _disposed;

    // Lengths (packed-sequence semantics): row b is valid at t < _lengths[b]; empty = every row is T long.
    private int[] _lengths = [];
    private bool _hasLengths;

    /// <param name="layout">The network's layout.</param>
    /// <param name="training">Keep the history a backward pass needs.</param>
    /// <param name="batchPart">
    /// The engine runs a part of a larger batch (a batch-parallel run): its products run on the GEMM kernel even when
    /// the part has one stream (B = 1) or one row (T·B = 1), as the whole batch's products do, so each stream gets the
    /// bits the serial run gives it. Otherwise one row runs on the GEMV kernel of the weights' stored format.
    /// </param>
    public SequenceEngine(RecurrentLayout layout, bool training, bool batchPart = false)
    {
        _layout = layout;
        _spec = layout.Spec;
        _training = training;
        _oneRowOnGemm = batchPart;
        _h = _spec.HiddenSize;
        _gh = _spec.Gates * _h;
        _dh = _spec.LayerOutputSize;
        _cacheWidth = _spec.Cell switch
        {
            CellKind.Gru => _spec.LinearBeforeReset ? 4 * _h : 3 * _h,
            CellKind.Lstm => 5 * _h,
            _ => 0,
        };
        _cellScratch = new float[5 * _h];
        // Inference keeps one buffer of each, but two hidden-state buffers that alternate between the layers of a
        // one-direction stack, whose layer output is read straight from its slots (see Forward).
        int perDirection = training ? _spec.Layers * _spec.Directions : 1;
        _layerOutputs = new float[training ? _spec.Layers : 2][];
        _hidden = new float[!training && _spec.Directions == 1 && _spec.Layers > 1 ? 2 : perDirection][];
        _cell = new float[perDirection][];
        _cache = new float[perDirection][];
        _resetHidden = new float[perDirection][];
        foreach (var group in new[] { _layerOutputs, _hidden, _cell, _cache, _resetHidden }) Array.Fill(group, []);
    }

    public int Steps => _steps;

    public int Batch => _batch;

    /// <summary>The top layer's output of the last forward pass, sequence-first [T·B, D·H].</summary>
    public ReadOnlySpan<float> TopOutput => _top switch
    {
        TopSource.LayerOutputs => _layerOutputs[_topIndex].AsSpan(0, _steps * _batch * _dh),
        TopSource.HiddenSlots => _hidden[_topIndex].AsSpan(_batch * _h, _steps * _batch * _dh),
        TopSource.Caller => throw new InvalidOperationException("The last pass wrote the top layer's output into the caller's buffer."),
        _ => ReadOnlySpan<float>.Empty,
    };

    /// <summary>Where a pass leaves the top layer's output.</summary>
    private enum TopSource { None, LayerOutputs, HiddenSlots, Caller }

    /// <summary>The readout's output of the last forward pass, sequence-first [T·B, O] (empty without a readout).</summary>
    public ReadOnlySpan<float> ReadoutOutput => _spec.ReadoutSize > 0 ? _readout.AsSpan(0, _steps * _batch * _spec.ReadoutSize) : default;

    /// <summary>Copies h_T of every layer and direction ([L·D, B, H]) into <paramref name="destination"/>.</summary>
    public void CopyFinalHidden(Span<float> destination) => CopyFinal(_hidden, destination);

    /// <summary>Copies c_T of every layer and direction ([L·D, B, H]) into <paramref name="destination"/> (LSTM).</summary>
    public void CopyFinalCell(Span<float> destination) => CopyFinal(_cell, destination);

    private void CopyFinal(float[][] states, Span<float> destination)
    {
        if (!_training)
            throw new InvalidOperationException("Final states of an inference engine are copied during the pass.");
        int bh = _batch * _h;
        for (int ld = 0; ld < _spec.Layers * _spec.Directions; ld++)
        {
            int finalSlot = ld % _spec.Directions == 0 ? _steps : 0;
            states[ld].AsSpan(finalSlot * bh, bh).CopyTo(destination.Slice(ld * bh, bh));
        }
    }

    /// <summary>
    /// The forward pass over <paramref name="steps"/> × <paramref name="batch"/> input rows (sequence-first) from the
    /// initial states (empty = zeros). Inference engines write h_T / c_T into <paramref name="finalHidden"/> /
    /// <paramref name="finalCell"/> when those are not empty. The caller validated every length (the kernels below are
    /// the unchecked ones). <paramref name="topOutput"/> (optional, [T·B, H], not overlapping the input) is where an
    /// inference engine may keep the top layer's states as it computes them, so that its output needs no copy; returns
    /// whether it did (one direction, no lengths, not training), else <see cref="TopOutput"/> holds the output.
    /// </summary>
    public bool Forward(NetworkWeights weights, ReadOnlySpan<float> input, int steps, int batch,
        ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell, Span<float> finalHidden, Span<float> finalCell, ReadOnlySpan<int> lengths = default,
        Span<float> topOutput = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EnsureCapacity(steps, batch);
        _steps = steps;
        _batch = batch;
        SetLengths(lengths, batch);
        int rows = steps * batch, bh = batch * _h;
        System.Diagnostics.Debug.Assert(topOutput.IsEmpty || !topOutput.Overlaps(input), "the caller's output overlaps the input");
        ReadOnlySpan<float> layerInput = input;
        for (int l = 0; l < _spec.Layers; l++)
        {
            int inputSize = l == 0 ? _spec.InputSize : _dh;
            // One direction in inference without lengths: the layer's output is its state slots 1..T as they are
            // ([T·B, H], sequence-first), read in place instead of gathered into a copy.
            bool slotsAreOutput = !_training && _spec.Directions == 1 && !_hasLengths;
            int outputIndex = _training ? l : l % 2;
            if (!slotsAreOutput) PooledFloats.Grow(ref _layerOutputs[outputIndex], rows * _dh); // inference rents it on first use
            Span<float> layerOutput = slotsAreOutput ? default : _layerOutputs[outputIndex].AsSpan(0, rows * _dh);
            // The top layer of such a network keeps slots 1..T in the caller's output instead (slot 0, h_0, stays here).
            Span<float> outputSlots = slotsAreOutput && l == _spec.Layers - 1 && !topOutput.IsEmpty ? topOutput.Slice(0, rows * _h) : default;
            for (int d = 0; d < _spec.Directions; d++)
            {
                int ld = l * _spec.Directions + d, slot = _training ? ld : 0, hiddenSlot = _training ? ld : l % _hidden.Length;
                var w = weights.Layer(l, d);
                Span<float> hidden = _hidden[hiddenSlot].AsSpan(0, (steps + 1) * bh);
                Span<float> cell = _spec.HasCellState ? _cell[slot].AsSpan(0, (steps + 1) * bh) : default;
                int initialSlot = d == 0 ? 0 : steps;
                CopyOrClear(initialHidden, ld * bh, bh, hidden.Slice(initialSlot * bh, bh));
                if (_spec.HasCellState) CopyOrClear(initialCell, ld * bh, bh, cell.Slice(initialSlot * bh, bh));

                // P = X·W_ihᵀ + (b_ih + b_hh), one product per chunk of time steps (see ProjectionChunkSteps), then
                // the chunk's steps in this direction's order.
                int chunkSteps = ProjectionChunkSteps(steps, batch, inputSize);
                // Snake order: a W_hh larger than half of L2 is read from its last rows to its first on every other step
                // (MatrixProducts.MultiplyOneRow; one-row products only, the same bits).
                bool snake = w.Recurrent.StoredBytes >= _snakeMinBytes;
                for (int s0 = 0; s0 < steps;)
                {
                    int count = Math.Min(chunkSteps, steps - s0);
                    int tFirst = d == 0 ? s0 : steps - s0 - count, chunkRows = count * batch;
                    Span<float> projection = _projection.AsSpan(0, chunkRows * _gh);
                    // On the GEMM kernel even for a one-row chunk, so that P's bits do not depend on the chunking; pre-packed
                    // slivers for batches only (a B = 1 sequence gains nothing from them: W_ihᵀ streams either way). The
                    // sums begin from the bias in registers (the bits of broadcasting it into P first, one pass fewer).
                    MatrixProducts.MultiplyFrom(w.Input, w.ProjectionBias, layerInput.Slice(tFirst * batch * inputSize, chunkRows * inputSize), chunkRows, projection,
                        oneRowOnGemm: true, usePanels: batch > 1);
                    ClearPadded(projection, _gh, 0, _gh, tFirst, count);

                    for (int s = s0; s < s0 + count; s++)
                    {
                        int t = d == 0 ? s : steps - 1 - s;
                        int prev = d == 0 ? t : t + 1, next = d == 0 ? t + 1 : t;
                        Span<float> hPrev = StateSlot(hidden, outputSlots, prev, bh), hNext = StateSlot(hidden, outputSlots, next, bh);
                        if (SkipIdleStep(t, slot, hPrev, hNext, cell, prev * bh, next * bh)) continue;
                        RecurrentStep.Forward(_spec, batch, projection.Slice((t - tFirst) * batch * _gh, batch * _gh), w,
                            hPrev, hNext,
                            _spec.HasCellState ? cell.Slice(prev * bh, bh) : default, _spec.HasCellState ? cell.Slice(next * bh, bh) : default,
                            _training ? _cache[slot].AsSpan(t * batch * _cacheWidth, batch * _cacheWidth) : default,
                            _resetHidden[slot].Length == 0 ? default : _resetHidden[slot].AsSpan(_training ? t * bh : 0, bh),
                            _recurrent, _gates, _cellScratch, _oneRowOnGemm, descending: snake && (s & 1) == 1);
                        KeepPaddedRows(t, hPrev, hNext, cell, prev * bh, next * bh);
                    }
                    s0 += count;
                }

                if (!outputSlots.IsEmpty)
                {
                    _top = TopSource.Caller;
                }
                else if (slotsAreOutput)
                {
                    (_top, _topIndex) = (TopSource.HiddenSlots, hiddenSlot);
                }
                else
                {
                    // The layer's output at t is [h_fwd(t), h_rev(t)]: gather this direction's slots into its half.
                    int firstOut = d == 0 ? 1 : 0;
                    for (int r = 0; r < rows; r++)
                        hidden.Slice((firstOut * batch + r) * _h, _h).CopyTo(layerOutput.Slice(r * _dh + d * _h, _h));
                    ClearPadded(layerOutput, _dh, d * _h, _h);
                    (_top, _topIndex) = (TopSource.LayerOutputs, outputIndex);
                }

                if (!_training)
                {
                    int finalSlot = d == 0 ? steps : 0;
                    if (!finalHidden.IsEmpty) StateSlot(hidden, outputSlots, finalSlot, bh).CopyTo(finalHidden.Slice(ld * bh, bh));
                    if (!finalCell.IsEmpty) cell.Slice(finalSlot * bh, bh).CopyTo(finalCell.Slice(ld * bh, bh));
                }
            }
            layerInput = outputSlots.IsEmpty ? TopOutput : outputSlots;
        }

        if (weights.Readout is { } head)
        {
            // out = act(Y·W_headᵀ + b_head)
            int o = _spec.ReadoutSize;
            Span<float> readout = _readout.AsSpan(0, rows * o);
            MatrixProducts.MultiplyFrom(head.Weights, head.Bias, layerInput, rows, readout, _oneRowOnGemm, usePanels: _batch > 1);
            if (_training) readout.CopyTo(_readoutLogits);
            if (_spec.ReadoutActivation == ReadoutActivation.Sigmoid) Activations.SigmoidUnchecked(readout, readout);
            ClearPadded(readout, o, 0, o);
        }
        return _top == TopSource.Caller;
    }

    /// <summary>
    /// State slot <paramref name="s"/> ([B, H]) of a layer and direction: in <paramref name="slots"/>, or, when
    /// <paramref name="outputs"/> is given, slot 0 there and slot s ≥ 1 at row (s − 1)·B of the outputs.
    /// </summary>
    private static Span<float> StateSlot(Span<float> slots, Span<float> outputs, int s, int bh) =>
        outputs.IsEmpty || s == 0 ? slots.Slice(s * bh, bh) : outputs.Slice((s - 1) * bh, bh);

    // ---- The history a training engine keeps, read by the backward pass (Training/SequenceBackward).

    /// <summary>True for an engine that keeps every step's states and gates for back-propagation.</summary>
    public bool KeepsHistory => _training;

    /// <summary>The layout this engine runs.</summary>
    public RecurrentLayout Layout => _layout;

    /// <summary>The floats of history per step and stream: GRU [r | z | n | m] (4H, or 3H without linear-before-reset), LSTM 5H.</summary>
    public int CacheWidth => _cacheWidth;

    /// <summary>Layer·direction <paramref name="ld"/>'s hidden states, T + 1 time-ordered slots of [B, H].</summary>
    public ReadOnlySpan<float> HiddenHistory(int ld) => _hidden[ld].AsSpan(0, (_steps + 1) * _batch * _h);

    /// <summary>The LSTM's cell states, like <see cref="HiddenHistory"/> (empty for other cells).</summary>
    public ReadOnlySpan<float> CellHistory(int ld) => _spec.HasCellState ? _cell[ld].AsSpan(0, (_steps + 1) * _batch * _h) : default;

    /// <summary>The gates kept per step and stream [T·B, CacheWidth].</summary>
    public ReadOnlySpan<float> GateHistory(int ld) => _cache[ld].AsSpan(0, _steps * _batch * _cacheWidth);

    /// <summary>The GRU without linear-before-reset: r ⊙ h_prev per step [T·B, H] (empty otherwise).</summary>
    public ReadOnlySpan<float> ResetHiddenHistory(int ld) => _resetHidden[ld].Length == 0 ? default : _resetHidden[ld].AsSpan(0, _steps * _batch * _h);

    /// <summary>Layer <paramref name="l"/>'s output [T·B, D·H] (the input of layer l + 1).</summary>
    public ReadOnlySpan<float> LayerOutput(int l) => _layerOutputs[l].AsSpan(0, _steps * _batch * _dh);

    /// <summary>True when the last pass had lengths with at least one row shorter than T.</summary>
    public bool HasLengths => _hasLengths;

    /// <summary>The lengths of the last pass (meaningful when <see cref="HasLengths"/>).</summary>
    public ReadOnlySpan<int> Lengths => _lengths.AsSpan(0, _batch);

    /// <summary>The readout before its activation, of the last forward pass of a training engine [T·B, O].</summary>
    public ReadOnlySpan<float> ReadoutLogits => _readoutLogits.AsSpan(0, _steps * _batch * _spec.ReadoutSize);

    internal static void CopyOrClear(ReadOnlySpan<float> source, int offset, int length, Span<float> destination)
    {
        if (source.IsEmpty) destination.Clear();
        else source.Slice(offset, length).CopyTo(destination);
    }

    private void EnsureCapacity(int steps, int batch)
    {
        if (steps <= _stepCapacity && batch <= _batchCapacity && steps * batch <= _rowCapacity && _recurrent.Length > 0) return;
        int stepCap = Math.Max(steps, _stepCapacity), batchCap = Math.Max(batch, _batchCapacity);
        int rows = stepCap * batchCap, bh = batchCap * _h, states = (stepCap + 1) * bh;
        int perDirection = _cell.Length;
        PooledFloats.Grow(ref _input, rows * _spec.InputSize);
        if (_training) for (int k = 0; k < _layerOutputs.Length; k++) PooledFloats.Grow(ref _layerOutputs[k], rows * _dh);
        // One chunk of P: at most max(budget rows, one step's B rows) and at most all T·B rows.
        int inputWidth = Math.Max(_spec.InputSize, _spec.Layers > 1 ? _dh : 0);
        int chunkRows = Math.Min(rows, Math.Max(ProjectionChunkRows(inputWidth), batchCap));
        PooledFloats.Grow(ref _projection, chunkRows * _gh);
        for (int k = 0; k < _hidden.Length; k++) PooledFloats.Grow(ref _hidden[k], states);
        for (int k = 0; k < perDirection; k++)
        {
            if (_spec.HasCellState) PooledFloats.Grow(ref _cell[k], states);
            if (_training && _cacheWidth > 0) PooledFloats.Grow(ref _cache[k], rows * _cacheWidth);
            if (_spec.Cell == CellKind.Gru && !_spec.LinearBeforeReset) PooledFloats.Grow(ref _resetHidden[k], _training ? rows * _h : bh);
        }
        PooledFloats.Grow(ref _recurrent, batchCap * _gh);
        if (_spec.Cell == CellKind.Gru && !_spec.LinearBeforeReset) PooledFloats.Grow(ref _gates, batchCap * 2 * _h);
        if (_spec.ReadoutSize > 0) PooledFloats.Grow(ref _readout, rows * _spec.ReadoutSize);
        if (_spec.ReadoutSize > 0 && _training) PooledFloats.Grow(ref _readoutLogits, rows * _spec.ReadoutSize);
        _stepCapacity = stepCap;
        _batchCapacity = batchCap;
        _rowCapacity = rows;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _top = TopSource.None;
        foreach (var group in new[] { _layerOutputs, _hidden, _cell, _cache, _resetHidden })
            for (int k = 0; k < group.Length; k++) PooledFloats.Return(ref group[k]);
        PooledFloats.Return(ref _input); PooledFloats.Return(ref _projection); PooledFloats.Return(ref _recurrent); PooledFloats.Return(ref _gates); PooledFloats.Return(ref _readout); PooledFloats.Return(ref _readoutLogits);
    }

    /// <summary>Whether row <paramref name="b"/> is past its length at step <paramref name="t"/> (always false without lengths).</summary>
    private bool IsPadded(int t, int b) => _hasLengths && t >= _lengths[b];

    /// <summary>Whether every row is past its length at step <paramref name="t"/>.</summary>
    public bool AllPadded(int t) => _hasLengths && t >= _maxLength;

    private int _maxLength;

    /// <summary>Keeps the lengths of this pass (validated by the caller: B of them, each in 1..T); empty = all T.</summary>
    private void SetLengths(ReadOnlySpan<int> lengths, int batch)
    {
        _hasLengths = false;
        if (lengths.IsEmpty) return;
        if (_lengths.Length < batch) _lengths = new int[Math.Max(batch, _batchCapacity)];
        lengths.CopyTo(_lengths);
        _maxLength = 0;
        bool allFull = true;
        for (int b = 0; b < batch; b++)
        {
            _maxLength = Math.Max(_maxLength, lengths[b]);
            allFull &= lengths[b] >= _steps;
        }
        _hasLengths = !allFull;
    }

    /// <summary>
    /// Writes exact zeros into columns [offset, offset + width) of every padded row (t ≥ length_b) of a sequence-first
    /// buffer whose rows are <paramref name="stride"/> floats apart: padded outputs, and the input projection and
    /// upstream gradients of padded positions (whatever a padded input held, NaN included, it goes no further).
    /// </summary>
    public void ClearPadded(Span<float> rows, int stride, int offset, int width) => ClearPadded(rows, stride, offset, width, 0, _steps);

    /// <summary>
    /// <see cref="ClearPadded(Span{float}, int, int, int)"/> for the steps [<paramref name="firstStep"/>,
    /// <paramref name="firstStep"/> + <paramref name="stepCount"/>) of a buffer that holds only those (its row 0 is
    /// step <paramref name="firstStep"/>'s first stream).
    /// </summary>
    private void ClearPadded(Span<float> rows, int stride, int offset, int width, int firstStep, int stepCount)
    {
        if (!_hasLengths) return;
        for (int t = firstStep; t < firstStep + stepCount; t++)
            for (int b = 0; b < _batch; b++)
                if (t >= _lengths[b]) rows.Slice(((t - firstStep) * _batch + b) * stride + offset, width).Clear();
    }

    /// <summary>The floats of input projection one chunk aims at: 256 KiB, a quarter of a 1 MiB L2.</summary>
    private const int ProjectionChunkFloats = 64 * 1024;

    /// <summary>
    /// Steps per chunk of the input projection P = X·W_ihᵀ + b: as many as keep the chunk within
    /// <see cref="ProjectionChunkFloats"/>, so that P is still in L2 when the steps read it (a whole batch's P, T·B·G·H
    /// floats, is megabytes and went out to L3 and back: the bias broadcast, the product and the steps each streamed it),
    /// but at least <paramref name="inputSize"/> rows, so that W_ih, read once per chunk, costs no more traffic than the
    /// P it keeps in cache; at least one step, at most T. Every element of P is the same sum in the same order whatever
    /// the chunks: the product always runs on the GEMM kernel (<see cref="MatrixProducts.MultiplyFrom"/> with oneRowOnGemm),
    /// whose bits do not depend on the number of rows.
    /// </summary>
    private int ProjectionChunkSteps(int steps, int batch, int inputSize) =>
        Math.Clamp(ProjectionChunkRows(inputSize) / Math.Max(batch, 1), 1, Math.Max(steps, 1));

    private int ProjectionChunkRows(int inputSize) =>
        _chunkRowsOverride > 0 ? _chunkRowsOverride : Math.Max(ProjectionChunkFloats / Math.Max(_gh, 1), inputSize);

    private int _chunkRowsOverride;

    private long _snakeMinBytes = MatrixProducts.DescendingMinBytes;

    /// <summary>The least bytes of W_hh read in snake order, instead of <see cref="MatrixProducts.DescendingMinBytes"/> (tests: 0, every matrix; <see cref="long.MaxValue"/>, none).</summary>
    internal long SnakeMinBytesOverride
    {
        set => _snakeMinBytes = value;
    }

    /// <summary>Rows per projection chunk instead of the automatic choice (0: automatic); tests run many chunk boundaries with it.</summary>
    internal int ProjectionChunkRowsOverride
    {
        set
        {
            _chunkRowsOverride = value;
            _rowCapacity = 0; // the next pass sizes the chunk buffer again
        }
    }

    /// <summary>Zeros the padded rows of a sequence-first [T·B, width] buffer for lengths given by the caller.</summary>
    internal static void ClearPaddedRows(Span<float> rows, int steps, int batch, int width, ReadOnlySpan<int> lengths)
    {
        if (lengths.IsEmpty) return;
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
                if (t >= lengths[b]) rows.Slice((t * batch + b) * width, width).Clear();
    }

    /// <summary>
    /// A step at which every row is padded: each state passes through unchanged (h_next = h_prev, c_next = c_prev) and
    /// no cell runs. Training also clears that step's r ⊙ h_prev rows (they enter dW_hn with a zero gradient).
    /// </summary>
    private bool SkipIdleStep(int t, int slot, ReadOnlySpan<float> hPrev, Span<float> hNext, Span<float> cell, int prevOffset, int nextOffset)
    {
        if (!AllPadded(t)) return false;
        int bh = _batch * _h;
        hPrev.CopyTo(hNext);
        if (_spec.HasCellState) cell.Slice(prevOffset, bh).CopyTo(cell.Slice(nextOffset, bh));
        if (_training && _resetHidden[slot].Length > 0) _resetHidden[slot].AsSpan(t * bh, bh).Clear();
        return true;
    }

    /// <summary>After a step, the rows padded at t keep their previous state (h, and c for the LSTM): a sequence that ended stays put.</summary>
    private void KeepPaddedRows(int t, ReadOnlySpan<float> hPrev, Span<float> hNext, Span<float> cell, int prevOffset, int nextOffset)
    {
        if (!_hasLengths) return;
        for (int b = 0; b < _batch; b++)
        {
            if (t < _lengths[b]) continue;
            hPrev.Slice(b * _h, _h).CopyTo(hNext.Slice(b * _h, _h));
            if (_spec.HasCellState) cell.Slice(prevOffset + b * _h, _h).CopyTo(cell.Slice(nextOffset + b * _h, _h));
        }
    }

    /// <summary>The sequence-first input buffer (for batch-first callers), at least T·B·I long.</summary>
    public Span<float> InputBuffer(int steps, int batch)
    {
        EnsureCapacity(steps, batch);
        return _input.AsSpan(0, steps * batch * _spec.InputSize);
    }
}
