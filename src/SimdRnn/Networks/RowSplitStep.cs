using SimdRnn.Kernels;

namespace SimdRnn.Networks;

/// <summary>
/// A <see cref="RecurrentState"/>'s streaming step split by hidden units across a <see cref="RowSplitTeam"/>
/// (see <see cref="RowSplitPlan"/>). Per layer, each worker computes its units' input projection and recurrent product
/// from its own rows of W_ih and W_hh, runs their gate pass, and the team meets once at the barrier: after it every
/// worker sees the layer's whole new h, which the next layer (or the readout) reads. The readout splits by its rows
/// when O is a multiple of 16 with a block per worker, else worker 0 runs it. Allocates nothing per step.
/// </summary>
internal sealed class RowSplitStep : RowSplitJob, IDisposable
{
    private readonly RecurrentSpec _spec;
    private readonly RowSplitTeam _team;
    private readonly RowSplitLayer[][] _shares;       // [worker][layer]
    private readonly PackedMatrix?[] _readoutRows;    // [worker]: its rows of W_head, or null (worker 0 alone: all)
    private readonly int[] _readoutFirst;             // [worker + 1]
    private readonly float[][] _projection, _recurrent, _cellNext, _readoutPart, _scratch; // per worker
    private readonly float[] _hidden, _cell;          // the state's [L, B, H]
    private readonly float[] _next;                   // [L, B, H]: each layer's new h
    private readonly float[] _input, _output;         // [B, I], [B, O]
    private readonly NetworkWeights _weights;
    private readonly int _batch;

    public RowSplitStep(RecurrentNetwork network, int batch, int workers, float[] hidden, float[] cell)
    {
        _spec = network.Spec;
        _weights = network.Weights;
        _batch = batch;
        _hidden = hidden;
        _cell = cell;
        int h = _spec.HiddenSize, g = _spec.Gates, o = _spec.OutputSize;
        _shares = RowSplitLayer.For(_spec, _weights, workers);
        _next = new float[_spec.Layers * batch * h];
        _input = new float[batch * _spec.InputSize];
        _output = new float[batch * o];
        _projection = new float[workers][];
        _recurrent = new float[workers][];
        _cellNext = new float[workers][];
        _readoutPart = new float[workers][];
        _scratch = new float[workers][];
        _readoutRows = new PackedMatrix?[workers];
        _readoutFirst = new int[workers + 1];
        int readout = _spec.ReadoutSize;
        bool splitReadout = readout > 0 && readout % RowSplitPlan.UnitBlock == 0 && readout / RowSplitPlan.UnitBlock >= workers;
        for (int k = 0; k < workers; k++)
        {
            int units = _shares[k][0].Units;
            _projection[k] = new float[batch * g * units];
            _recurrent[k] = new float[batch * g * units];
            _cellNext[k] = new float[_spec.HasCellState ? batch * units : 0];
            _scratch[k] = new float[5 * units];
            _readoutFirst[k + 1] = splitReadout ? RowSplitPlan.First(readout, workers, k + 1) : readout;
            if (splitReadout)
            {
                int first = RowSplitPlan.First(readout, workers, k), rows = RowSplitPlan.First(readout, workers, k + 1) - first;
                var head = _weights.Readout!.Weights;
                _readoutRows[k] = PackedMatrix.FromFloat32(head.Data.Slice(first * head.Cols, rows * head.Cols), rows, head.Cols);
                _readoutPart[k] = new float[batch * rows];
            }
            else
            {
                _readoutPart[k] = [];
            }
        }
        _team = new RowSplitTeam(workers);
    }

    /// <summary>The number of workers, the calling thread included.</summary>
    public int Workers => _team.Workers;

    /// <summary>The team (tests run their own jobs on it).</summary>
    internal RowSplitTeam Team => _team;

    /// <summary>One step for all B streams; the caller validated the lengths.</summary>
    public void Step(ReadOnlySpan<float> input, Span<float> output)
    {
        input.CopyTo(_input);
        _team.Run(this);
        _output.AsSpan(0, output.Length).CopyTo(output);
    }

    public override void Run(int worker)
    {
        var spec = _spec;
        int b = _batch, h = spec.HiddenSize, bh = b * h, g = spec.Gates;
        var barrier = _team.Barrier;
        ReadOnlySpan<float> layerInput = _input;
        for (int l = 0; l < spec.Layers; l++)
        {
            var share = _shares[worker][l];
            int first = share.First, units = share.Units, gu = g * units;
            Span<float> p = _projection[worker], q = _recurrent[worker], cNext = _cellNext[worker];
            Span<float> hidden = _hidden.AsSpan(l * bh, bh), next = _next.AsSpan(l * bh, bh);
            Span<float> cell = spec.HasCellState ? _cell.AsSpan(l * bh, bh) : default;
            // P_w = X·W_ih,wᵀ + b_w and Q_w = H_prev·W_hh,wᵀ: this worker's gate rows of both products.
            MatrixProducts.MultiplyFrom(share.Input, share.Bias, layerInput, b, p);
            MatrixProducts.Multiply(share.Recurrent, hidden, b, q, accumulate: false);
            for (int s = 0; s < b; s++)
            {
                int unit = s * h + first;
                share.Cell(p.Slice(s * gu, gu), q.Slice(s * gu, gu), hidden.Slice(unit, units), next.Slice(unit, units),
                    spec.HasCellState ? cell.Slice(unit, units) : default, spec.HasCellState ? cNext.Slice(s * units, units) : default, _scratch[worker]);
                // c is read only by this worker's units: it can be written back at once.
                if (spec.HasCellState) cNext.Slice(s * units, units).CopyTo(cell.Slice(unit, units));
            }
            // Every worker has read this layer's h_prev and written its units of the new h.
            barrier.SignalAndWait();
            for (int s = 0; s < b; s++) next.Slice(s * h + first, units).CopyTo(hidden.Slice(s * h + first, units));
            layerInput = next;
        }

        if (_weights.Readout is { } readout)
        {
            // out = act(h·W_headᵀ + b_head): this worker's rows of W_head (or, unsplit, worker 0 all of them).
            int o = spec.ReadoutSize, first = _readoutFirst[worker], rows = _readoutFirst[worker + 1] - first;
            if (rows == 0) return;
            var rowsOf = _readoutRows[worker];
            if (rowsOf is null)
            {
                MatrixProducts.MultiplyFrom(readout.Weights, readout.Bias, layerInput, b, _output);
                if (spec.ReadoutActivation == ReadoutActivation.Sigmoid) Activations.SigmoidUnchecked(_output, _output);
                return;
            }
            Span<float> part = _readoutPart[worker];
            MatrixProducts.MultiplyFrom(rowsOf, readout.Bias.Slice(first, rows), layerInput, b, part);
            if (spec.ReadoutActivation == ReadoutActivation.Sigmoid) Activations.SigmoidUnchecked(part, part);
            for (int s = 0; s < b; s++) part.Slice(s * rows, rows).CopyTo(_output.AsSpan(s * o + first, rows));
        }
        else if (worker == 0)
        {
            // The top layer's h; complete after the last barrier.
            layerInput.CopyTo(_output);
        }
    }

    public void Dispose() => _team.Dispose();
}
