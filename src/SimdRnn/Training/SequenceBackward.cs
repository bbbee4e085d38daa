using SimdRnn.Cells;
using SimdRnn.Kernels;
using SimdRnn.Networks;

namespace SimdRnn.Training;

/// <summary>
/// Exact back-propagation through the last forward pass of a training <see cref="SequenceEngine"/> (one that keeps
/// its history): the inference engine's forward pass knows nothing of it. It owns the gradient buffers (pooled,
/// grown only for a longer or wider batch) and never allocates otherwise. Not thread-safe: one per trainer.
/// </summary>
/// <remarks>
/// Per layer from the top and per direction, time runs backwards with δ = dL/dh (and dL/dc for the LSTM): the
/// cell's backward pass gives the gradients of the input projection (dP) and of the recurrent product (dQ), and
/// δ_prev = the cell's direct part + dQ·W_hh. Kept for all steps, they give every weight gradient as one product over
/// T·B rows (dW_ih += dPᵀ·X, dW_hh += dQᵀ·H_prev, db += Σ rows) and the layer input's gradient dX = dP·W_ih.
/// </remarks>
internal sealed class SequenceBackward : IDisposable
{
    private readonly SequenceEngine _engine;
    private readonly RecurrentLayout _layout;
    private readonly RecurrentSpec _spec;
    private readonly int _h, _gh, _dh, _cacheWidth;
    private float[] _dTop = [], _dLayerA = [], _dLayerB = [], _dP = [], _dQ = [], _dReadout = [];
    private float[] _dhTotal = [], _dhPrev = [], _dhCarry = [], _dcCarry = [], _dcPrev = [], _dResetHidden = [];
    private float[] _dInitialHidden = [], _dInitialCell = [];
    private float[] _dcPadded = [];           // LSTM: the cell carries of rows padded at the current step [B, H]
    private bool _disposed;

    /// <summary>Back-propagates through <paramref name="engine"/>, which must keep its history.</summary>
    public SequenceBackward(SequenceEngine engine)
    {
        if (!engine.KeepsHistory) throw new ArgumentException("The engine keeps no history.", nameof(engine));
        _engine = engine;
        _layout = engine.Layout;
        _spec = _layout.Spec;
        _h = _spec.HiddenSize;
        _gh = _spec.Gates * _h;
        _dh = _spec.LayerOutputSize;
        _cacheWidth = engine.CacheWidth;
    }

    /// <summary>dL/dx of the last backward pass, sequence-first [T·B, I].</summary>
    public ReadOnlySpan<float> InputGradient => _dLayerA.AsSpan(0, _engine.Steps * _engine.Batch * _spec.InputSize);

    /// <summary>dL/dh_0 of the last backward pass [L·D, B, H].</summary>
    public ReadOnlySpan<float> InitialHiddenGradient => _dInitialHidden.AsSpan(0, _spec.Layers * _spec.Directions * _engine.Batch * _h);

    /// <summary>dL/dc_0 of the last backward pass [L·D, B, H] (LSTM).</summary>
    public ReadOnlySpan<float> InitialCellGradient => _dInitialCell.AsSpan(0, _spec.HasCellState ? _spec.Layers * _spec.Directions * _engine.Batch * _h : 0);

    /// <summary>
    /// Exact back-propagation through the last forward pass (of a training engine). Upstream gradients are
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
        int steps = _engine.Steps, batch = _engine.Batch, rows = steps * batch, bh = batch * _h;
        EnsureCapacity(rows, bh);
        Span<float> dY = _dTop.AsSpan(0, rows * _dh);
        SequenceEngine.CopyOrClear(dTop, 0, rows * _dh, dY);
        _engine.ClearPadded(dY, _dh, 0, _dh);

        if (_spec.ReadoutSize > 0 && !dReadout.IsEmpty)
        {
            // dZ = dOut ⊙ act'(Z); dW_head += dZᵀ·Y; db_head += Σ_rows dZ; dY += dZ·W_head
            int o = _spec.ReadoutSize;
            Span<float> dz = _dReadout.AsSpan(0, rows * o);
            dReadout.CopyTo(dz);
            _engine.ClearPadded(dz, o, 0, o);
            if (_spec.ReadoutActivation == ReadoutActivation.Sigmoid && !readoutGradientIsLogit)
            {
                ReadOnlySpan<float> outputs = _engine.ReadoutOutput;
                for (int k = 0; k < dz.Length; k++) dz[k] *= outputs[k] * (1 - outputs[k]);
            }
            MatrixProducts.TransposedMultiplyAccumulate(dz, rows, o, _engine.TopOutput, _dh, gradients.Slice(_layout.HeadWeights, o * _dh));
            MatrixProducts.AccumulateColumnSums(dz, rows, gradients.Slice(_layout.HeadBias, o));
            MatrixProducts.MultiplyAccumulate(dz, rows, o, parameters.Slice(_layout.HeadWeights, o * _dh), _dh, dY);
        }

        _dInitialHidden.AsSpan().Clear();
        _dInitialCell.AsSpan().Clear();
        for (int l = _spec.Layers - 1; l >= 0; l--)
        {
            int inputSize = l == 0 ? _spec.InputSize : _dh;
            ReadOnlySpan<float> layerInput = l == 0 ? input : _engine.LayerOutput(l - 1);
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
        ReadOnlySpan<float> hidden = _engine.HiddenHistory(ld);
        ReadOnlySpan<float> cell = _engine.CellHistory(ld);
        ReadOnlySpan<float> cache = _engine.GateHistory(ld);
        Span<float> dP = _dP.AsSpan(0, rows * _gh);
        // dQ: the gradient of Q = H_prev·W_hhᵀ (equal to dP for RNN and LSTM). For the GRU without linear-before-reset
        // it is stored as two blocks: [T·B, 2H] for r, z and [T·B, H] for n, whose input is r ⊙ h_prev.
        Span<float> dQ = gru ? _dQ.AsSpan(0, rows * _gh) : dP;
        Span<float> dhTotal = _dhTotal.AsSpan(0, bh), dhPrev = _dhPrev.AsSpan(0, bh), dhCarry = _dhCarry.AsSpan(0, bh);
        Span<float> dcCarry = _dcCarry.AsSpan(0, lstm ? bh : 0), dcPrev = _dcPrev.AsSpan(0, lstm ? bh : 0);
        SequenceEngine.CopyOrClear(dFinalHidden, ld * bh, bh, dhCarry);
        if (lstm) SequenceEngine.CopyOrClear(dFinalCell, ld * bh, bh, dcCarry);

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
            MatrixProducts.TransposedMultiplyAccumulate(dQnAll, rows, _h, _engine.ResetHiddenHistory(ld), _h, dWhh.Slice(h2 * _h, _h * _h));
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

    /// <summary>
    /// Back-propagation through a step at which every row is padded: the state passed through unchanged, so the
    /// carries dL/dh and dL/dc pass through too (padded upstream gradients are zero), and the step's dP and dQ are zero.
    /// </summary>
    private bool SkipIdleStepBackward(int t, Span<float> dP, Span<float> dQ)
    {
        if (!_engine.AllPadded(t)) return false;
        for (int b = 0; b < _engine.Batch; b++) ClearGateGradients(t, b, dP, dQ);
        return true;
    }

    /// <summary>Before a step's cell backward: keeps the cell carry of the rows padded at t (the LSTM overwrites it).</summary>
    private void SavePaddedCellCarry(int t, ReadOnlySpan<float> dcCarry)
    {
        if (!_engine.HasLengths || !_spec.HasCellState) return;
        ReadOnlySpan<int> lengths = _engine.Lengths;
        for (int b = 0; b < lengths.Length; b++)
            if (t >= lengths[b]) dcCarry.Slice(b * _h, _h).CopyTo(_dcPadded.AsSpan(b * _h, _h));
    }

    /// <summary>
    /// After a step's cell backward: a row padded at t passed its state through, so dL/dh_prev is its carry
    /// (its upstream gradient is zero), dL/dc_prev its cell carry, and its dP, dQ rows are zero.
    /// </summary>
    private void PassPaddedRowsThrough(int t, ReadOnlySpan<float> dhCarry, Span<float> dhPrev, Span<float> dcCarry, Span<float> dP, Span<float> dQ)
    {
        if (!_engine.HasLengths) return;
        ReadOnlySpan<int> lengths = _engine.Lengths;
        for (int b = 0; b < lengths.Length; b++)
        {
            if (t < lengths[b]) continue;
            dhCarry.Slice(b * _h, _h).CopyTo(dhPrev.Slice(b * _h, _h));
            if (_spec.HasCellState) _dcPadded.AsSpan(b * _h, _h).CopyTo(dcCarry.Slice(b * _h, _h));
            ClearGateGradients(t, b, dP, dQ);
        }
    }

    /// <summary>Zeros row (t, b) of dP and of dQ (for the GRU; its two-block form without linear-before-reset too).</summary>
    private void ClearGateGradients(int t, int b, Span<float> dP, Span<float> dQ)
    {
        int rows = _engine.Steps * _engine.Batch, row = t * _engine.Batch + b;
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

    private void EnsureCapacity(int rows, int bh)
    {
        int widest = Math.Max(_spec.InputSize, _dh);
        PooledFloats.Grow(ref _dTop, rows * _dh);
        PooledFloats.Grow(ref _dLayerA, rows * widest);
        PooledFloats.Grow(ref _dLayerB, rows * widest);
        PooledFloats.Grow(ref _dP, rows * _gh);
        if (_spec.Cell == CellKind.Gru) PooledFloats.Grow(ref _dQ, rows * _gh);
        if (_spec.ReadoutSize > 0) PooledFloats.Grow(ref _dReadout, rows * _spec.ReadoutSize);
        PooledFloats.Grow(ref _dhTotal, bh);
        PooledFloats.Grow(ref _dhPrev, bh);
        PooledFloats.Grow(ref _dhCarry, bh);
        PooledFloats.Grow(ref _dcCarry, bh);
        PooledFloats.Grow(ref _dcPrev, bh);
        PooledFloats.Grow(ref _dResetHidden, bh);
        PooledFloats.Grow(ref _dInitialHidden, _spec.Layers * _spec.Directions * bh);
        PooledFloats.Grow(ref _dInitialCell, _spec.Layers * _spec.Directions * bh);
        if (_spec.HasCellState) PooledFloats.Grow(ref _dcPadded, bh);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        PooledFloats.Return(ref _dTop); PooledFloats.Return(ref _dLayerA); PooledFloats.Return(ref _dLayerB); PooledFloats.Return(ref _dP);
        PooledFloats.Return(ref _dQ); PooledFloats.Return(ref _dReadout); PooledFloats.Return(ref _dhTotal); PooledFloats.Return(ref _dhPrev);
        PooledFloats.Return(ref _dhCarry); PooledFloats.Return(ref _dcCarry); PooledFloats.Return(ref _dcPrev); PooledFloats.Return(ref _dResetHidden);
        PooledFloats.Return(ref _dInitialHidden); PooledFloats.Return(ref _dInitialCell); PooledFloats.Return(ref _dcPadded);
    }
}
