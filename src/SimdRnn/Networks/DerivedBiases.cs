namespace SimdRnn.Networks;

/// <summary>
/// Biases rearranged for the hot loop, per layer and direction: the projection bias <c>b_ih + b_hh</c> (G·H; for a
/// GRU only the r and z blocks take <c>b_hh</c>) added once to the input projection, and the GRU's <c>b_hn</c> (H),
/// which the reset gate multiplies and so stays apart. Zeros where the bias form has none.
/// </summary>
internal static class DerivedBiases
{
    public static int Stride(RecurrentSpec spec) => (spec.Gates + 1) * spec.HiddenSize;

    public static int Length(RecurrentSpec spec) => spec.Layers * spec.Directions * Stride(spec);

    public static void Compute(RecurrentLayout layout, ReadOnlySpan<float> parameters, Span<float> derived)
    {
        var spec = layout.Spec;
        int h = spec.HiddenSize, gh = spec.Gates * h, stride = Stride(spec);
        derived.Clear();
        for (int l = 0; l < spec.Layers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                var slots = layout.Layer(l, d);
                Span<float> projection = derived.Slice((l * spec.Directions + d) * stride, gh);
                Span<float> bhn = derived.Slice((l * spec.Directions + d) * stride + gh, h);
                if (slots.InputBias >= 0) parameters.Slice(slots.InputBias, gh).CopyTo(projection);
                if (slots.RecurrentBias >= 0)
                {
                    ReadOnlySpan<float> bhh = parameters.Slice(slots.RecurrentBias, gh);
                    int folded = spec.Cell == CellKind.Gru ? 2 * h : gh;
                    for (int j = 0; j < folded; j++) projection[j] += bhh[j];
                    if (spec.Cell == CellKind.Gru) bhh.Slice(2 * h, h).CopyTo(bhn);
                }
            }
        }
    }

    public static ReadOnlySpan<float> Projection(RecurrentSpec spec, ReadOnlySpan<float> derived, int layer, int direction) =>
        derived.Slice((layer * spec.Directions + direction) * Stride(spec), spec.Gates * spec.HiddenSize);

    public static ReadOnlySpan<float> ResetBias(RecurrentSpec spec, ReadOnlySpan<float> derived, int layer, int direction) =>
        derived.Slice((layer * spec.Directions + direction) * Stride(spec) + spec.Gates * spec.HiddenSize, spec.HiddenSize);
}
