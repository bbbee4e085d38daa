namespace SimdRnn.Networks;

/// <summary>
/// A read-only view of the tensors of an Elman network, as weights or as their gradients; matrices are
/// row-major (element [i, j] of an r×c matrix at i·c + j).
/// </summary>
public readonly ref struct ElmanTensors
{
    internal ElmanTensors(ReadOnlySpan<float> inputWeights, ReadOnlySpan<float> recurrentWeights, ReadOnlySpan<float> hiddenBias,
        ReadOnlySpan<float> outputWeights, ReadOnlySpan<float> outputBias, ReadOnlySpan<float> all)
    {
        InputWeights = inputWeights;
        RecurrentWeights = recurrentWeights;
        HiddenBias = hiddenBias;
        OutputWeights = outputWeights;
        OutputBias = outputBias;
        All = all;
    }

    /// <summary>Views a flat buffer in the order Wxh, Whh, bh, Why, by.</summary>
    internal static ElmanTensors Of(RecurrentSpec spec, ReadOnlySpan<float> all)
    {
        int i = spec.InputSize, h = spec.HiddenSize, o = spec.ReadoutSize;
        int whh = h * i, bh = whh + h * h, why = bh + h, by = why + o * h;
        return new ElmanTensors(all.Slice(0, h * i), all.Slice(whh, h * h), all.Slice(bh, h), all.Slice(why, o * h), all.Slice(by, o), all);
    }

    /// <summary>Wxh, hidden × input.</summary>
    public ReadOnlySpan<float> InputWeights { get; }

    /// <summary>Whh, hidden × hidden.</summary>
    public ReadOnlySpan<float> RecurrentWeights { get; }

    /// <summary>bh, hidden (the single hidden bias of the seed document).</summary>
    public ReadOnlySpan<float> HiddenBias { get; }

    /// <summary>Why, output × hidden.</summary>
    public ReadOnlySpan<float> OutputWeights { get; }

    /// <summary>by, output.</summary>
    public ReadOnlySpan<float> OutputBias { get; }

    /// <summary>All of the above in one buffer, in the order Wxh, Whh, bh, Why, by.</summary>
    public ReadOnlySpan<float> All { get; }
}
