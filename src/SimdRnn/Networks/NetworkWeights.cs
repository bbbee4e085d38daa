using SimdRnn.Kernels;

namespace SimdRnn.Networks;

/// <summary>
/// One layer and direction's weights as the hot loop uses them: <c>W_ih</c> [G·H, I_l] and <c>W_hh</c> [G·H, H] as
/// <see cref="PackedMatrix"/> of the network's weight format, the projection bias <c>b_ih + b_hh</c> (G·H; for a GRU only the r and z blocks take
/// <c>b_hh</c>) added once to the input projection, and the GRU's <c>b_hn</c> (H), which the reset gate multiplies and so
/// stays apart. Zeros where the bias form has none.
/// </summary>
internal sealed class LayerWeights
{
    private readonly RecurrentSpec _spec;
    private readonly LayerSlots _slots;
    private readonly float[] _projectionBias, _resetBias;

    /// <exception cref="ArgumentException">(int8) A weight is NaN or ±∞; the message names the tensor, row and column.</exception>
    public LayerWeights(RecurrentSpec spec, LayerSlots slots, ReadOnlySpan<float> parameters, WeightFormat format, string suffix, bool quantizeActivations = false)
    {
        _spec = spec;
        _slots = slots;
        int h = spec.HiddenSize, gh = spec.Gates * h;
        Input = Pack(format, parameters.Slice(slots.InputWeights, gh * slots.InputSize), gh, slots.InputSize, "weight_ih" + suffix);
        Recurrent = Pack(format, parameters.Slice(slots.RecurrentWeights, gh * h), gh, h, "weight_hh" + suffix);
        if (quantizeActivations)
        {
            // Every vector that multiplies W_ih or W_hh is quantized to int16 per product.
            Input = Input.WithQuantizedInputs();
            Recurrent = Recurrent.WithQuantizedInputs();
        }
        _projectionBias = new float[gh];
        _resetBias = new float[h];
        ComputeBiases(parameters);
    }

    /// <summary>Packs one weight tensor in <paramref name="format"/>; a refusal (int8 of a non-finite weight) names the tensor.</summary>
    private static PackedMatrix Pack(WeightFormat format, ReadOnlySpan<float> master, int rows, int cols, string name)
    {
        try
        {
            return PackedMatrix.From(format, master, rows, cols);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Tensor '{name}': {e.Message.Replace(" (Parameter 'w')", "", StringComparison.Ordinal)}", "precision", e);
        }
    }

    /// <summary>W_ih [G·H, I_l].</summary>
    public PackedMatrix Input { get; }

    /// <summary>W_hh [G·H, H].</summary>
    public PackedMatrix Recurrent { get; }

    /// <summary>b_ih + b_hh (GRU: b_hh's r and z blocks only), G·H.</summary>
    public ReadOnlySpan<float> ProjectionBias => _projectionBias;

    /// <summary>The GRU's b_hn (H); zeros for the other cells or without b_hh.</summary>
    public ReadOnlySpan<float> ResetBias => _resetBias;

    /// <summary>Rewrites everything from new master parameters, allocating nothing (a trainer's private copy only).</summary>
    public void Refresh(ReadOnlySpan<float> parameters)
    {
        Input.Refresh(parameters.Slice(_slots.InputWeights, Input.Rows * Input.Cols));
        Recurrent.Refresh(parameters.Slice(_slots.RecurrentWeights, Recurrent.Rows * Recurrent.Cols));
        ComputeBiases(parameters);
    }

    private void ComputeBiases(ReadOnlySpan<float> parameters)
    {
        int h = _spec.HiddenSize, gh = _spec.Gates * h;
        Span<float> projection = _projectionBias;
        projection.Clear();
        _resetBias.AsSpan().Clear();
        if (_slots.InputBias >= 0) parameters.Slice(_slots.InputBias, gh).CopyTo(projection);
        if (_slots.RecurrentBias >= 0)
        {
            // b_hh folds into the projection, except a GRU's n block, which r multiplies.
            ReadOnlySpan<float> bhh = parameters.Slice(_slots.RecurrentBias, gh);
            int folded = _spec.Cell == CellKind.Gru ? 2 * h : gh;
            for (int j = 0; j < folded; j++) projection[j] += bhh[j];
            if (_spec.Cell == CellKind.Gru) bhh.Slice(2 * h, h).CopyTo(_resetBias);
        }
    }
}

/// <summary>The dense readout's weights: <c>W_head</c> [O, D·H] as a <see cref="PackedMatrix"/> and <c>b_head</c> [O].</summary>
internal sealed class ReadoutWeights
{
    private readonly int _weightOffset, _biasOffset;
    private readonly float[] _bias;

    public ReadoutWeights(RecurrentLayout layout, ReadOnlySpan<float> parameters)
    {
        int o = layout.Spec.ReadoutSize, dh = layout.Spec.LayerOutputSize;
        _weightOffset = layout.HeadWeights;
        _biasOffset = layout.HeadBias;
        Weights = PackedMatrix.FromFloat32(parameters.Slice(_weightOffset, o * dh), o, dh);
        _bias = parameters.Slice(_biasOffset, o).ToArray();
    }

    /// <summary>W_head [O, D·H].</summary>
    public PackedMatrix Weights { get; }

    /// <summary>b_head [O].</summary>
    public ReadOnlySpan<float> Bias => _bias;

    /// <summary>Rewrites everything from new master parameters, allocating nothing (a trainer's private copy only).</summary>
    public void Refresh(ReadOnlySpan<float> parameters)
    {
        Weights.Refresh(parameters.Slice(_weightOffset, Weights.Rows * Weights.Cols));
        parameters.Slice(_biasOffset, _bias.Length).CopyTo(_bias);
    }
}

/// <summary>
/// Every weight of a network as the engines use them, built once from the fp32 master parameters (laid out as
/// <see cref="RecurrentLayout"/>): one <see cref="LayerWeights"/> per layer and direction, and the
/// <see cref="ReadoutWeights"/> when the network has a readout. Every <c>weight_ih_l*</c> / <c>weight_hh_l*</c> matrix
/// (incl. <c>_reverse</c>) is packed in <see cref="Format"/>; biases and the readout stay float32. A network's set never
/// changes; a trainer owns its own fp32 set and <see cref="Refresh"/>es it after each update.
/// </summary>
internal sealed class NetworkWeights
{
    private readonly LayerWeights[] _layers;
    private readonly int _directions;

    /// <exception cref="ArgumentException">(int8) A weight is NaN or ±∞; the message names the tensor, row and column.</exception>
    /// <param name="layout">The network's layout.</param>
    /// <param name="parameters">The fp32 master parameters.</param>
    /// <param name="format">The format of every weight_ih / weight_hh matrix.</param>
    /// <param name="quantizeActivations">(int8) Every matrix quantizes the vectors it multiplies to int16 (<see cref="PackedMatrix.QuantizesInputs"/>).</param>
    public NetworkWeights(RecurrentLayout layout, ReadOnlySpan<float> parameters, WeightFormat format = WeightFormat.Float32, bool quantizeActivations = false)
    {
        var spec = layout.Spec;
        Format = format;
        _directions = spec.Directions;
        _layers = new LayerWeights[spec.Layers * spec.Directions];
        for (int l = 0; l < spec.Layers; l++)
            for (int d = 0; d < spec.Directions; d++)
                _layers[l * _directions + d] = new LayerWeights(spec, layout.Layer(l, d), parameters, format,
                    "_l" + l.ToString(System.Globalization.CultureInfo.InvariantCulture) + (d == 1 ? "_reverse" : ""), quantizeActivations);
        Readout = spec.ReadoutSize > 0 ? new ReadoutWeights(layout, parameters) : null;
    }

    /// <summary>The format of every recurrent weight matrix (the readout is always float32).</summary>
    public WeightFormat Format { get; }

    /// <summary>The bytes the recurrent weight matrices take in <see cref="Format"/> (elements plus scales).</summary>
    public long RecurrentWeightBytes
    {
        get
        {
            long bytes = 0;
            foreach (var layer in _layers) bytes += layer.Input.StoredBytes + layer.Recurrent.StoredBytes;
            return bytes;
        }
    }

    /// <summary>The readout's weights, or null without a readout.</summary>
    public ReadoutWeights? Readout { get; }

    /// <summary>Layer <paramref name="layer"/>, direction <paramref name="direction"/> (0 forward, 1 reverse).</summary>
    public LayerWeights Layer(int layer, int direction) => _layers[layer * _directions + direction];

    /// <summary>Rewrites every weight and bias from new master parameters, allocating nothing (a trainer's private copy only).</summary>
    public void Refresh(ReadOnlySpan<float> parameters)
    {
        foreach (var layer in _layers) layer.Refresh(parameters);
        Readout?.Refresh(parameters);
    }
}
