namespace SimdRnn.Networks;

/// <summary>
/// Where each tensor of an Elman network lives inside its one flat parameter buffer (and, identically, inside a
/// gradient buffer), so that an optimizer can update every parameter in a single pass:
/// <c>[ Wxh (H×I) | Whh (H×H) | bh (H) | Why (O×H) | by (O) ]</c>, matrices row-major.
/// </summary>
internal sealed class ElmanLayout
{
    public ElmanLayout(int inputSize, int hiddenSize, int outputSize)
    {
        Guard.Positive(inputSize, nameof(inputSize));
        Guard.Positive(hiddenSize, nameof(hiddenSize));
        Guard.Positive(outputSize, nameof(outputSize));
        long total = (long)hiddenSize * inputSize + (long)hiddenSize * hiddenSize + hiddenSize + (long)outputSize * hiddenSize + outputSize;
        if (total > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize), hiddenSize, $"The network would have {total} parameters, more than an array holds.");
        I = inputSize;
        H = hiddenSize;
        O = outputSize;
        RecurrentOffset = H * I;
        HiddenBiasOffset = RecurrentOffset + H * H;
        OutputWeightsOffset = HiddenBiasOffset + H;
        OutputBiasOffset = OutputWeightsOffset + O * H;
        Count = OutputBiasOffset + O;
    }

    public int I { get; }
    public int H { get; }
    public int O { get; }
    public int RecurrentOffset { get; }
    public int HiddenBiasOffset { get; }
    public int OutputWeightsOffset { get; }
    public int OutputBiasOffset { get; }

    /// <summary>The total number of parameters.</summary>
    public int Count { get; }

    public Span<float> Wxh(Span<float> all) => all.Slice(0, H * I);
    public Span<float> Whh(Span<float> all) => all.Slice(RecurrentOffset, H * H);
    public Span<float> Bh(Span<float> all) => all.Slice(HiddenBiasOffset, H);
    public Span<float> Why(Span<float> all) => all.Slice(OutputWeightsOffset, O * H);
    public Span<float> By(Span<float> all) => all.Slice(OutputBiasOffset, O);

    public ReadOnlySpan<float> Wxh(ReadOnlySpan<float> all) => all.Slice(0, H * I);
    public ReadOnlySpan<float> Whh(ReadOnlySpan<float> all) => all.Slice(RecurrentOffset, H * H);
    public ReadOnlySpan<float> Bh(ReadOnlySpan<float> all) => all.Slice(HiddenBiasOffset, H);
    public ReadOnlySpan<float> Why(ReadOnlySpan<float> all) => all.Slice(OutputWeightsOffset, O * H);
    public ReadOnlySpan<float> By(ReadOnlySpan<float> all) => all.Slice(OutputBiasOffset, O);

    public ElmanTensors View(ReadOnlySpan<float> all) => new(Wxh(all), Whh(all), Bh(all), Why(all), By(all), all);
}
