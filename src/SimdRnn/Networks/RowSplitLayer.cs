using SimdRnn.Cells;
using SimdRnn.Kernels;

namespace SimdRnn.Networks;

/// <summary>
/// One worker's share of one layer and direction: its hidden units [<see cref="First"/>, First + <see cref="Units"/>)
/// and, for those units, the rows of W_ih and W_hh of every gate, gathered gate after gate into its own contiguous,
/// 64-byte-aligned <see cref="PackedMatrix"/> (so they stay in that worker's core's cache), the projection bias and the
/// GRU's b_hn. Weights are read only; <see cref="Cell"/> runs the gate pass of its units for one stream.
/// </summary>
internal sealed class RowSplitLayer
{
    private readonly RecurrentSpec _spec;
    private readonly float[] _bias, _resetBias;

    public RowSplitLayer(RecurrentSpec spec, LayerWeights weights, int first, int units)
    {
        _spec = spec;
        First = first;
        Units = units;
        int h = spec.HiddenSize, g = spec.Gates;
        Input = Slice(weights.Input, h, g, first, units);
        Recurrent = Slice(weights.Recurrent, h, g, first, units);
        _bias = new float[g * units];
        for (int gate = 0; gate < g; gate++)
            weights.ProjectionBias.Slice(gate * h + first, units).CopyTo(_bias.AsSpan(gate * units, units));
        _resetBias = weights.ResetBias.Slice(first, units).ToArray();
    }

    /// <summary>The first hidden unit this worker owns.</summary>
    public int First { get; }

    /// <summary>The number of hidden units this worker owns.</summary>
    public int Units { get; }

    /// <summary>The rows of W_ih for this worker's units, gate after gate [G·units, I_l].</summary>
    public PackedMatrix Input { get; }

    /// <summary>The rows of W_hh for this worker's units, gate after gate [G·units, H].</summary>
    public PackedMatrix Recurrent { get; }

    /// <summary>The projection bias of this worker's units, gate after gate (G·units).</summary>
    public ReadOnlySpan<float> Bias => _bias;

    /// <summary>
    /// The gate pass for one stream's units: <paramref name="p"/>, <paramref name="q"/> (G·units, this worker's gate
    /// blocks), h_prev and c_prev of the units in, h and c of the units out. <paramref name="scratch"/> ≥ 5·units.
    /// </summary>
    public void Cell(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> hPrev, Span<float> h,
        ReadOnlySpan<float> cPrev, Span<float> c, Span<float> scratch)
    {
        switch (_spec.Cell)
        {
            case CellKind.Rnn:
                RnnCell.Forward(_spec.Nonlinearity.ToCell(), p, q, h);
                break;
            case CellKind.Gru:
                GruCell.Forward(p, q, _resetBias, hPrev, h, default, scratch);
                break;
            default:
                LstmCell.Forward(p, q, cPrev, c, h, default, scratch);
                break;
        }
    }

    /// <summary>
    /// Rows gate·H + first … gate·H + first + units − 1 of <paramref name="w"/> for every gate, as one packed matrix of
    /// the same format (bf16 words and int8 rows with their scales copied as stored, so a split network runs exactly
    /// the weights of the unsplit one).
    /// </summary>
    private static PackedMatrix Slice(PackedMatrix w, int h, int gates, int first, int units) => w.GatherRows(gates, h, first, units);

    /// <summary>Every worker's share of every layer and direction: [worker][layer·D + direction].</summary>
    public static RowSplitLayer[][] For(RecurrentSpec spec, NetworkWeights weights, int workers)
    {
        int h = spec.HiddenSize, count = spec.Layers * spec.Directions;
        var shares = new RowSplitLayer[workers][];
        for (int k = 0; k < workers; k++)
        {
            int first = RowSplitPlan.First(h, workers, k), units = RowSplitPlan.First(h, workers, k + 1) - first;
            shares[k] = new RowSplitLayer[count];
            for (int l = 0; l < spec.Layers; l++)
                for (int d = 0; d < spec.Directions; d++)
                    shares[k][l * spec.Directions + d] = new RowSplitLayer(spec, weights.Layer(l, d), first, units);
        }
        return shares;
    }
}
