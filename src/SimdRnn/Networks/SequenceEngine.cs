using System.Buffers;
using SimdRnn.Cells;
using SimdRnn.Kernels;

namespace SimdRnn.Networks;

/// <summary>
/// Runs a <see cref="RecurrentSpec"/> over whole sequences of B streams, and back-propagates through it exactly.
/// It owns every buffer a pass needs (pooled, grown only when a longer or wider batch arrives) and never allocates
/// otherwise. Not thread-safe: one engine per session or trainer.
/// </summary>
/// <remarks>
/// Per layer and direction, the forward pass (1) projects all T·B input rows at once, <c>P = X·W_ihᵀ + b</c>, with
/// one matrix product; (2) walks time, each step one product <c>Q = H_prev·W_hhᵀ</c> for the B streams and one fused
/// cell pass per stream (bias, activations and gate blend). Hidden states are kept in a time-ordered buffer of T + 1
/// slots: the forward direction reads slot t and writes slot t + 1 (slot 0 holds h_0); the reverse direction reads
/// slot t + 1 and writes slot t (slot T holds h_0). So both the outputs and the previous states of all steps are
/// contiguous, which lets back-propagation form every weight gradient as one matrix product over T·B rows.
/// </remarks>
internal sealed class SequenceEngine : IDisposable
{
    private readonly RecurrentLayout _layout;
    private readonly RecurrentSpec _spec;
    private readonly bool _training;
    private readonly int _h, _gh, _dh, _cacheWidth;
    private int _rowCapacity, _stepCapacity, _batchCapacity;

    // Forward buffers.
    private float[] _input = [];              // sequence-first input [T·B, I]
    private readonly float[][] _layerOutputs; // per layer [T·B, D·H] (training keeps all L; inference ping-pongs 2)
    private float[] _projection = [];         // P [T·B, G·H]
    private readonly float[][] _hidden;       // per layer·direction [(T+1)·B, H] (inference: 1)
    private readonly float[][] _cell;         // LSTM, like _hidden
    private readonly float[][] _cache;        // training: per layer·direction [T·B, S]
    private readonly float[][] _resetHidden;  // GRU, linear_before_reset = 0: r ⊙ h_prev [T·B, H] (inference: [B, H])
    private float[] _recurrent = [];          // Q [B, G·H]
    private float[] _gates = [];              // GRU, linear_before_reset = 0, inference: [r | z] [B, 2H]
    private readonly float[] _cellScratch;    // one stream's gates in inference (5H)
    private float[] _readout = [];            // [T·B, O]
    private float[] _readoutLogits = [];      // training: the readout before its activation [T·B, O]

    // Backward buffers.
    private float[] _dTop = [], _dLayerA = [], _dLayerB = [], _dP = [], _dQ = [], _dReadout = [];
    private float[] _dhTotal = [], _dhPrev = [], _dhCarry = [], _dcCarry = [], _dcPrev = [], _dResetHidden = [];
    private float[] _dInitialHidden = [], _dInitialCell = [];

    private int _steps, _batch;
    private bool _disposed;

    // Lengths (packed-sequence semantics): row b is valid at t < _lengths[b]; empty = every row is T long.
    private int[] _lengths = [];
    private bool _hasLengths;
    private float[] _dcPadded = [];           // training, LSTM: the cell carries of rows padded at the current step [B, H]

    public SequenceEngine(RecurrentLayout layout, bool training)
    {
        _layout = layout;
        _spec = layout.Spec;
        _training = training;
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
        int perDirection = training ? _spec.Layers * _spec.Directions : 1;
        _layerOutputs = new float[training ? _spec.Layers : 2][];
        _hidden = new float[perDirection][];
        _cell = new float[perDirection][];
        _cache = new float[perDirection][];
        _resetHidden = new float[perDirection][];
        foreach (var group in new[] { _layerOutputs, _hidden, _cell, _cache, _resetHidden }) Array.Fill(group, []);
    }

    public int Steps => _steps;

    public int Batch => _batch;

    /// <summary>The top layer's output of the last forward pass, sequence-first [T·B, D·H].</summary>
    public ReadOnlySpan<float> TopOutput => _layerOutputs[TopIndex].AsSpan(0, _steps * _batch * _dh);

    /// <summary>The readout's output of the last forward pass, sequence-first [T·B, O] (empty without a readout).</summary>
    public ReadOnlySpan<float> ReadoutOutput => _spec.ReadoutSize > 0 ? _readout.AsSpan(0, _steps * _batch * _spec.ReadoutSize) : default;

    /// <summary>dL/dx of the last backward pass, sequence-first [T·B, I].</summary>
    public ReadOnlySpan<float> InputGradient => _dLayerA.AsSpan(0, _steps * _batch * _spec.InputSize);

    /// <summary>dL/dh_0 of the last backward pass [L·D, B, H].</summary>
    public ReadOnlySpan<float> InitialHiddenGradient => _dInitialHidden.AsSpan(0, _spec.Layers * _spec.Directions * _batch * _h);

    /// <summary>dL/dc_0 of the last backward pass [L·D, B, H] (LSTM).</summary>
    public ReadOnlySpan<float> InitialCellGradient => _dInitialCell.AsSpan(0, _spec.HasCellState ? _spec.Layers * _spec.Directions * _batch * _h : 0);

    private int TopIndex => _training ? _spec.Layers - 1 : (_spec.Layers - 1) % 2;

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
    /// the unchecked ones).
    /// </summary>
    public void Forward(NetworkWeights weights, ReadOnlySpan<float> input, int steps, int batch,
        ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell, Span<float> finalHidden, Span<float> finalCell, ReadOnlySpan<int> lengths = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EnsureCapacity(steps, batch);
        _steps = steps;
        _batch = batch;
        SetLengths(lengths, batch);
        int rows = steps * batch, bh = batch * _h;
        ReadOnlySpan<float> layerInput = input;
        for (int l = 0; l < _spec.Layers; l++)
        {
            int inputSize = l == 0 ? _spec.InputSize : _dh;
            Span<float> layerOutput = _layerOutputs[_training ? l : l % 2].AsSpan(0, rows * _dh);
            for (int d = 0; d < _spec.Directions; d++)
            {
                int ld = l * _spec.Directions + d, slot = _training ? ld : 0;
                var w = weights.Layer(l, d);
                Span<float> hidden = _hidden[slot].AsSpan(0, (steps + 1) * bh);
                Span<float> cell = _spec.HasCellState ? _cell[slot].AsSpan(0, (steps + 1) * bh) : default;
                int initialSlot = d == 0 ? 0 : steps;
                CopyOrClear(initialHidden, ld * bh, bh, hidden.Slice(initialSlot * bh, bh));
                if (_spec.HasCellState) CopyOrClear(initialCell, ld * bh, bh, cell.Slice(initialSlot * bh, bh));

                // P = X·W_ihᵀ + (b_ih + b_hh): every time step's input projection in one product.
                Span<float> projection = _projection.AsSpan(0, rows * _gh);
                MatrixProducts.BroadcastRows(w.ProjectionBias, rows, projection);
                MatrixProducts.Multiply(w.Input, layerInput, rows, projection, accumulate: true);
                ClearPadded(projection, _gh, 0, _gh);

                for (int s = 0; s < steps; s++)
                {
                    int t = d == 0 ? s : steps - 1 - s;
                    int prev = d == 0 ? t : t + 1, next = d == 0 ? t + 1 : t;
                    if (SkipIdleStep(t, slot, hidden.Slice(prev * bh, bh), hidden.Slice(next * bh, bh), cell, prev * bh, next * bh)) continue;
                    RecurrentStep.Forward(_spec, batch, projection.Slice(t * batch * _gh, batch * _gh), w,
                        hidden.Slice(prev * bh, bh), hidden.Slice(next * bh, bh),
                        _spec.HasCellState ? cell.Slice(prev * bh, bh) : default, _spec.HasCellState ? cell.Slice(next * bh, bh) : default,
                        _training ? _cache[slot].AsSpan(t * batch * _cacheWidth, batch * _cacheWidth) : default,
                        _resetHidden[slot].Length == 0 ? default : _resetHidden[slot].AsSpan(_training ? t * bh : 0, bh),
                        _recurrent, _gates, _cellScratch);
                    KeepPaddedRows(t, hidden.Slice(prev * bh, bh), hidden.Slice(next * bh, bh), cell, prev * bh, next * bh);
                }

                // The layer's output at t is [h_fwd(t), h_rev(t)]: gather this direction's slots into its half.
                int firstOut = d == 0 ? 1 : 0;
                for (int r = 0; r < rows; r++)
                    hidden.Slice((firstOut * batch + r) * _h, _h).CopyTo(layerOutput.Slice(r * _dh + d * _h, _h));
                ClearPadded(layerOutput, _dh, d * _h, _h);

                if (!_training)
                {
                    int finalSlot = d == 0 ? steps : 0;
                    if (!finalHidden.IsEmpty) hidden.Slice(finalSlot * bh, bh).CopyTo(finalHidden.Slice(ld * bh, bh));
                    if (!finalCell.IsEmpty) cell.Slice(finalSlot * bh, bh).CopyTo(finalCell.Slice(ld * bh, bh));
                }
            }
            layerInput = layerOutput;
        }

        if (weights.Readout is { } head)
        {
            // out = act(Y·W_headᵀ + b_head)
            int o = _spec.ReadoutSize;
            Span<float> readout = _readout.AsSpan(0, rows * o);
            MatrixProducts.BroadcastRows(head.Bias, rows, readout);
            MatrixProducts.Multiply(head.Weights, layerInput, rows, readout, accumulate: true);
            if (_training) readout.CopyTo(_readoutLogits);
            if (_spec.ReadoutActivation == ReadoutActivation.Sigmoid) Activations.SigmoidUnchecked(readout, readout);
            ClearPadded(readout, o, 0, o);
        }
    }

    /// <summary>The readout before its activation, of the last forward pass of a training engine [T·B, O].</summary>
    public ReadOnlySpan<float> ReadoutLogits => _readoutLogits.AsSpan(0, _steps * _batch * _spec.ReadoutSize);

    /// <summary>
    /// Exact back-propagation through the last forward pass (training engines only). Upstream gradients are
    /// sequence-first: <paramref name="dReadout"/> [T·B, O] of the readout's output, <paramref name="dTop"/>
    /// [T·B, D·H] of the top layer's output, <paramref name="dFinalHidden"/>/<paramref name="dFinalCell"/> [L·D, B, H];
    /// any may be empty (zero). Parameter gradients are added into <paramref name="gradients"/>. With
    /// <paramref name="readoutGradientIsLogit"/>, <paramref name="dReadout"/> is already the gradient of the readout's
    /// pre-activation (as binary cross-entropy gives it: o − t). Gradients flow back through the fp32 master weights
    /// <paramref name="parameters"/> (laid out as the layout's tensors), not through the packed copies of the forward pass.
    /// </summary>
    public void Backward(ReadOnlySpan<float> parameters, Span<float> gradients, ReadOnlySpan<float> input,
        ReadOnlySpan<float> dReadout, ReadOnlySpan<float> dTop, ReadOnlySpan<float> dFinalHidden, ReadOnlySpan<float> dFinalCell, bool readoutGradientIsLogit = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_training) throw new InvalidOperationException("This engine keeps no history.");
        int steps = _steps, batch = _batch, rows = steps * batch, bh = batch * _h;
        Span<float> dY = _dTop.AsSpan(0, rows * _dh);
        CopyOrClear(dTop, 0, rows * _dh, dY);
        ClearPadded(dY, _dh, 0, _dh);

        if (_spec.ReadoutSize > 0 && !dReadout.IsEmpty)
        {
            // dZ = dOut ⊙ act'(Z); dW_head += dZᵀ·Y; db_head += Σ_rows dZ; dY += dZ·W_head
            int o = _spec.ReadoutSize;
            Span<float> dz = _dReadout.AsSpan(0, rows * o);
            dReadout.CopyTo(dz);
            ClearPadded(dz, o, 0, o);
            if (_spec.ReadoutActivation == ReadoutActivation.Sigmoid && !readoutGradientIsLogit)
            {
                ReadOnlySpan<float> outputs = _readout;
                for (int k = 0; k < dz.Length; k++) dz[k] *= outputs[k] * (1 - outputs[k]);
            }
            MatrixProducts.TransposedMultiplyAccumulate(dz, rows, o, TopOutput, _dh, gradients.Slice(_layout.HeadWeights, o * _dh));
            MatrixProducts.AccumulateColumnSums(dz, rows, gradients.Slice(_layout.HeadBias, o));
            MatrixProducts.MultiplyAccumulate(dz, rows, o, parameters.Slice(_layout.HeadWeights, o * _dh), _dh, dY);
        }

        _dInitialHidden.AsSpan().Clear();
        _dInitialCell.AsSpan().Clear();
        for (int l = _spec.Layers - 1; l >= 0; l--)
        {
            int inputSize = l == 0 ? _spec.InputSize : _dh;
            ReadOnlySpan<float> layerInput = l == 0 ? input : _layerOutputs[l - 1].AsSpan(0, rows * _dh);
            // dX of this layer (the dY of the layer below): buffers alternate by layer parity, so layer 0's is _dLayerA.
            Span<float> dX = (l % 2 == 0 ? _dLayerA : _dLayerB).AsSpan(0, rows * inputSize);
            dX.Clear();
            for (int d = 0; d < _spec.Directions; d++)
            {
                int ld = l * _spec.Directions + d;
                BackwardDirection(l, d, ld, parameters, gradients, layerInput, inputSize, dY, dX, dFinalHidden, dFinalCell, steps, batch, bh);
            }
            dY = dX;
        }
    }

    private void BackwardDirection(int l, int d, int ld, ReadOnlySpan<float> parameters, Span<float> gradients, ReadOnlySpan<float> layerInput, int inputSize,
        ReadOnlySpan<float> dY, Span<float> dX, ReadOnlySpan<float> dFinalHidden, ReadOnlySpan<float> dFinalCell, int steps, int batch, int bh)
    {
        int rows = steps * batch, h2 = 2 * _h;
        var w = _layout.Layer(l, d);
        bool gru = _spec.Cell == CellKind.Gru, lstm = _spec.HasCellState, lbr = _spec.LinearBeforeReset;
        ReadOnlySpan<float> whh = parameters.Slice(w.RecurrentWeights, _gh * _h);
        ReadOnlySpan<float> hidden = _hidden[ld].AsSpan(0, (steps + 1) * bh);
        ReadOnlySpan<float> cell = lstm ? _cell[ld].AsSpan(0, (steps + 1) * bh) : default;
        ReadOnlySpan<float> cache = _cache[ld];
        Span<float> dP = _dP.AsSpan(0, rows * _gh);
        // dQ: the gradient of Q = H_prev·W_hhᵀ (equal to dP for RNN and LSTM). For the GRU without linear-before-reset
        // it is stored as two blocks: [T·B, 2H] for r, z and [T·B, H] for n, whose input is r ⊙ h_prev.
        Span<float> dQ = gru ? _dQ.AsSpan(0, rows * _gh) : dP;
        Span<float> dhTotal = _dhTotal.AsSpan(0, bh), dhPrev = _dhPrev.AsSpan(0, bh), dhCarry = _dhCarry.AsSpan(0, bh);
        Span<float> dcCarry = _dcCarry.AsSpan(0, lstm ? bh : 0), dcPrev = _dcPrev.AsSpan(0, lstm ? bh : 0);
        CopyOrClear(dFinalHidden, ld * bh, bh, dhCarry);
        if (lstm) CopyOrClear(dFinalCell, ld * bh, bh, dcCarry);

        for (int s = steps - 1; s >= 0; s--)
        {
            int t = d == 0 ? s : steps - 1 - s;
            int prev = d == 0 ? t : t + 1;
            if (SkipIdleStepBackward(t, dP, dQ)) continue;
            ReadOnlySpan<float> hPrev = hidden.Slice(prev * bh, bh);
            // δ_t = dL/dy_t (this direction's half) + the carry from the step after.
            for (int b = 0; b < batch; b++)
                dY.Slice((t * batch + b) * _dh + d * _h, _h).CopyTo(dhTotal.Slice(b * _h, _h));
            Elementwise.AccumulateUnchecked(dhCarry, dhTotal);
            SavePaddedCellCarry(t, dcCarry);

            Span<float> dPt = dP.Slice(t * batch * _gh, batch * _gh);
            ReadOnlySpan<float> cacheT = cache.Slice(t * batch * _cacheWidth, batch * _cacheWidth);
            switch (_spec.Cell)
            {
                case CellKind.Rnn:
                    int next = d == 0 ? t + 1 : t;
                    RnnCell.Backward(_spec.Nonlinearity.ToCell(), hidden.Slice(next * bh, bh), dhTotal, dPt);
                    dhPrev.Clear();
                    MatrixProducts.MultiplyAccumulate(dPt, batch, _gh, whh, _h, dhPrev);
                    break;
                case CellKind.Lstm:
                    for (int b = 0; b < batch; b++)
                        LstmCell.Backward(dhTotal.Slice(b * _h, _h), dcCarry.Slice(b * _h, _h), cacheT.Slice(b * _cacheWidth, _cacheWidth),
                            cell.Slice(prev * bh + b * _h, _h), dPt.Slice(b * _gh, _gh), dcPrev.Slice(b * _h, _h));
                    dcPrev.CopyTo(dcCarry);
                    dhPrev.Clear();
                    MatrixProducts.MultiplyAccumulate(dPt, batch, _gh, whh, _h, dhPrev);
                    break;
                default:
                    if (lbr)
                    {
                        Span<float> dQt = dQ.Slice(t * batch * _gh, batch * _gh);
                        for (int b = 0; b < batch; b++)
                            GruCell.Backward(dhTotal.Slice(b * _h, _h), cacheT.Slice(b * _cacheWidth, _cacheWidth), hPrev.Slice(b * _h, _h),
                                dPt.Slice(b * _gh, _gh), dQt.Slice(b * _gh, _gh), dhPrev.Slice(b * _h, _h));
                        MatrixProducts.MultiplyAccumulate(dQt, batch, _gh, whh, _h, dhPrev);
                    }
                    else
                    {
                        Span<float> dQrz = dQ.Slice(t * batch * h2, batch * h2), dQn = dQ.Slice(rows * h2 + t * bh, bh);
                        Span<float> dRh = _dResetHidden.AsSpan(0, bh);
                        for (int b = 0; b < batch; b++)
                            GruCell.CandidateBackward(dhTotal.Slice(b * _h, _h), cacheT.Slice(b * _cacheWidth, _cacheWidth), hPrev.Slice(b * _h, _h),
                                dPt.Slice(b * _gh, _gh), dQrz.Slice(b * h2, h2), dQn.Slice(b * _h, _h), dhPrev.Slice(b * _h, _h));
                        // d(r ⊙ h_prev) = dQ_n·W_hn
                        dRh.Clear();
                        MatrixProducts.MultiplyAccumulate(dQn, batch, _h, whh.Slice(h2 * _h, _h * _h), _h, dRh);
                        for (int b = 0; b < batch; b++)
                            GruCell.ResetGateBackward(dRh.Slice(b * _h, _h), cacheT.Slice(b * _cacheWidth, _cacheWidth), hPrev.Slice(b * _h, _h),
                                dPt.Slice(b * _gh, _gh), dQrz.Slice(b * h2, h2), dhPrev.Slice(b * _h, _h));
                        MatrixProducts.MultiplyAccumulate(dQrz, batch, h2, whh.Slice(0, h2 * _h), _h, dhPrev);
                    }
                    break;
            }
            PassPaddedRowsThrough(t, dhCarry, dhPrev, dcCarry, dP, dQ);
            dhPrev.CopyTo(dhCarry);
        }
        dhCarry.CopyTo(_dInitialHidden.AsSpan(ld * bh, bh));
        if (lstm) dcCarry.CopyTo(_dInitialCell.AsSpan(ld * bh, bh));

        // Weight and bias gradients over all T·B rows at once, and the gradient into this layer's input.
        int firstPrev = d == 0 ? 0 : 1;
        ReadOnlySpan<float> hPrevAll = hidden.Slice(firstPrev * bh, rows * _h);
        MatrixProducts.TransposedMultiplyAccumulate(dP, rows, _gh, layerInput, inputSize, gradients.Slice(w.InputWeights, _gh * inputSize));
        MatrixProducts.MultiplyAccumulate(dP, rows, _gh, parameters.Slice(w.InputWeights, _gh * inputSize), inputSize, dX);
        if (w.InputBias >= 0) MatrixProducts.AccumulateColumnSums(dP, rows, gradients.Slice(w.InputBias, _gh));
        if (gru && !lbr)
        {
            ReadOnlySpan<float> dQrzAll = dQ.Slice(0, rows * h2), dQnAll = dQ.Slice(rows * h2, rows * _h);
            Span<float> dWhh = gradients.Slice(w.RecurrentWeights, _gh * _h);
            MatrixProducts.TransposedMultiplyAccumulate(dQrzAll, rows, h2, hPrevAll, _h, dWhh.Slice(0, h2 * _h));
            MatrixProducts.TransposedMultiplyAccumulate(dQnAll, rows, _h, _resetHidden[ld].AsSpan(0, rows * _h), _h, dWhh.Slice(h2 * _h, _h * _h));
            if (w.RecurrentBias >= 0)
            {
                MatrixProducts.AccumulateColumnSums(dQrzAll, rows, gradients.Slice(w.RecurrentBias, h2));
                MatrixProducts.AccumulateColumnSums(dQnAll, rows, gradients.Slice(w.RecurrentBias + h2, _h));
            }
        }
        else
        {
            MatrixProducts.TransposedMultiplyAccumulate(dQ, rows, _gh, hPrevAll, _h, gradients.Slice(w.RecurrentWeights, _gh * _h));
            if (w.RecurrentBias >= 0) MatrixProducts.AccumulateColumnSums(dQ, rows, gradients.Slice(w.RecurrentBias, _gh));
        }
    }

    private static void CopyOrClear(ReadOnlySpan<float> source, int offset, int length, Span<float> destination)
    {
        if (source.IsEmpty) destination.Clear();
        else source.Slice(offset, length).CopyTo(destination);
    }

    private void EnsureCapacity(int steps, int batch)
    {
        if (steps <= _stepCapacity && batch <= _batchCapacity && steps * batch <= _rowCapacity && _recurrent.Length > 0) return;
        int stepCap = Math.Max(steps, _stepCapacity), batchCap = Math.Max(batch, _batchCapacity);
        int rows = stepCap * batchCap, bh = batchCap * _h, states = (stepCap + 1) * bh;
        int perDirection = _hidden.Length;
        Grow(ref _input, rows * _spec.InputSize);
        for (int k = 0; k < _layerOutputs.Length; k++) Grow(ref _layerOutputs[k], rows * _dh);
        Grow(ref _projection, rows * _gh);
        for (int k = 0; k < perDirection; k++)
        {
            Grow(ref _hidden[k], states);
            if (_spec.HasCellState) Grow(ref _cell[k], states);
            if (_training && _cacheWidth > 0) Grow(ref _cache[k], rows * _cacheWidth);
            if (_spec.Cell == CellKind.Gru && !_spec.LinearBeforeReset) Grow(ref _resetHidden[k], _training ? rows * _h : bh);
        }
        Grow(ref _recurrent, batchCap * _gh);
        if (_spec.Cell == CellKind.Gru && !_spec.LinearBeforeReset) Grow(ref _gates, batchCap * 2 * _h);
        if (_spec.ReadoutSize > 0) Grow(ref _readout, rows * _spec.ReadoutSize);
        if (_spec.ReadoutSize > 0 && _training) Grow(ref _readoutLogits, rows * _spec.ReadoutSize);
        if (_training)
        {
            int widest = Math.Max(_spec.InputSize, _dh);
            Grow(ref _dTop, rows * _dh);
            Grow(ref _dLayerA, rows * widest);
            Grow(ref _dLayerB, rows * widest);
            Grow(ref _dP, rows * _gh);
            if (_spec.Cell == CellKind.Gru) Grow(ref _dQ, rows * _gh);
            if (_spec.ReadoutSize > 0) Grow(ref _dReadout, rows * _spec.ReadoutSize);
            Grow(ref _dhTotal, bh);
            Grow(ref _dhPrev, bh);
            Grow(ref _dhCarry, bh);
            Grow(ref _dcCarry, bh);
            Grow(ref _dcPrev, bh);
            Grow(ref _dResetHidden, bh);
            Grow(ref _dInitialHidden, _spec.Layers * _spec.Directions * bh);
            Grow(ref _dInitialCell, _spec.Layers * _spec.Directions * bh);
            if (_spec.HasCellState) Grow(ref _dcPadded, bh);
        }
        _stepCapacity = stepCap;
        _batchCapacity = batchCap;
        _rowCapacity = rows;
    }

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length >= length && buffer.Length > 0) return;
        if (buffer.Length > 0) ArrayPool<float>.Shared.Return(buffer);
        buffer = ArrayPool<float>.Shared.Rent(Math.Max(length, 1));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var group in new[] { _layerOutputs, _hidden, _cell, _cache, _resetHidden })
            for (int k = 0; k < group.Length; k++) Return(ref group[k]);
        Return(ref _input); Return(ref _projection); Return(ref _recurrent); Return(ref _gates); Return(ref _readout); Return(ref _readoutLogits);
        Return(ref _dTop); Return(ref _dLayerA); Return(ref _dLayerB); Return(ref _dP); Return(ref _dQ); Return(ref _dReadout);
        Return(ref _dhTotal); Return(ref _dhPrev); Return(ref _dhCarry); Return(ref _dcCarry); Return(ref _dcPrev); Return(ref _dResetHidden);
        Return(ref _dInitialHidden); Return(ref _dInitialCell); Return(ref _dcPadded);
    }

    private static void Return(ref float[] buffer)
    {
        if (buffer.Length > 0) ArrayPool<float>.Shared.Return(buffer);
        buffer = [];
    }

    /// <summary>Whether row <paramref name="b"/> is past its length at step <paramref name="t"/> (always false without lengths).</summary>
    private bool IsPadded(int t, int b) => _hasLengths && t >= _lengths[b];

    /// <summary>Whether every row is past its length at step <paramref name="t"/>.</summary>
    private bool AllPadded(int t) => _hasLengths && t >= _maxLength;

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
    private void ClearPadded(Span<float> rows, int stride, int offset, int width)
    {
        if (!_hasLengths) return;
        for (int t = 0; t < _steps; t++)
            for (int b = 0; b < _batch; b++)
                if (t >= _lengths[b]) rows.Slice((t * _batch + b) * stride + offset, width).Clear();
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

    /// <summary>
    /// Back-propagation through a step at which every row is padded: the state passed through unchanged, so the
    /// carries dL/dh and dL/dc pass through too (padded upstream gradients are zero), and the step's dP and dQ are zero.
    /// </summary>
    private bool SkipIdleStepBackward(int t, Span<float> dP, Span<float> dQ)
    {
        if (!AllPadded(t)) return false;
        for (int b = 0; b < _batch; b++) ClearGateGradients(t, b, dP, dQ);
        return true;
    }

    /// <summary>Before a step's cell backward: keeps the cell carry of the rows padded at t (the LSTM overwrites it).</summary>
    private void SavePaddedCellCarry(int t, ReadOnlySpan<float> dcCarry)
    {
        if (!_hasLengths || !_spec.HasCellState) return;
        for (int b = 0; b < _batch; b++)
            if (t >= _lengths[b]) dcCarry.Slice(b * _h, _h).CopyTo(_dcPadded.AsSpan(b * _h, _h));
    }

    /// <summary>
    /// After a step's cell backward: a row padded at t passed its state through, so dL/dh_prev is its carry
    /// (its upstream gradient is zero), dL/dc_prev its cell carry, and its dP, dQ rows are zero.
    /// </summary>
    private void PassPaddedRowsThrough(int t, ReadOnlySpan<float> dhCarry, Span<float> dhPrev, Span<float> dcCarry, Span<float> dP, Span<float> dQ)
    {
        if (!_hasLengths) return;
        for (int b = 0; b < _batch; b++)
        {
            if (t < _lengths[b]) continue;
            dhCarry.Slice(b * _h, _h).CopyTo(dhPrev.Slice(b * _h, _h));
            if (_spec.HasCellState) _dcPadded.AsSpan(b * _h, _h).CopyTo(dcCarry.Slice(b * _h, _h));
            ClearGateGradients(t, b, dP, dQ);
        }
    }

    /// <summary>Zeros row (t, b) of dP and of dQ (for the GRU; its two-block form without linear-before-reset too).</summary>
    private void ClearGateGradients(int t, int b, Span<float> dP, Span<float> dQ)
    {
        int rows = _steps * _batch, row = t * _batch + b;
        dP.Slice(row * _gh, _gh).Clear();
        if (_spec.Cell != CellKind.Gru) return;
        if (_spec.LinearBeforeReset)
        {
            dQ.Slice(row * _gh, _gh).Clear();
        }
        else
        {
            dQ.Slice(row * 2 * _h, 2 * _h).Clear();
            dQ.Slice(rows * 2 * _h + row * _h, _h).Clear();
        }
    }

    /// <summary>The sequence-first input buffer (for batch-first callers), at least T·B·I long.</summary>
    public Span<float> InputBuffer(int steps, int batch)
    {
        EnsureCapacity(steps, batch);
        return _input.AsSpan(0, steps * batch * _spec.InputSize);
    }
}
