namespace SimdRnn.Networks;

/// <summary>
/// Transposed copies of the weight matrices, made once per set of weights: <c>W_ihᵀ</c> [I_l, G·H] and
/// <c>W_hhᵀ</c> [H, G·H] per layer and direction, and the readout's <c>Wᵀ</c> [D·H, O]. With B &gt; 1 rows, the products
/// <c>X·Wᵀ</c> then run as <c>X·(Wᵀ)</c> on the GEMM kernel that broadcasts X and streams whole vectors of Wᵀ, which is
/// 15–70% faster here than the dot-product form over W's rows (measured: docs/benchmarks.md). Single rows (a
/// streaming step of one stream) keep using W itself through GEMV. Costs one more copy of the weights.
/// </summary>
internal static class PackedWeights
{
    public static int Length(RecurrentLayout layout) => layout.Count;

    public static int InputOffset(RecurrentLayout layout, int layer, int direction) => layout.Layer(layer, direction).InputWeights;

    public static int RecurrentOffset(RecurrentLayout layout, int layer, int direction) => layout.Layer(layer, direction).RecurrentWeights;

    /// <summary>Fills <paramref name="packed"/> (laid out like the parameters: each matrix at its own offset, transposed).</summary>
    public static void Compute(RecurrentLayout layout, ReadOnlySpan<float> parameters, Span<float> packed)
    {
        var spec = layout.Spec;
        int gh = spec.Gates * spec.HiddenSize, h = spec.HiddenSize;
        for (int l = 0; l < spec.Layers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                var w = layout.Layer(l, d);
                Transpose(parameters.Slice(w.InputWeights, gh * w.InputSize), gh, w.InputSize, packed.Slice(w.InputWeights, gh * w.InputSize));
                Transpose(parameters.Slice(w.RecurrentWeights, gh * h), gh, h, packed.Slice(w.RecurrentWeights, gh * h));
            }
        }
        if (spec.ReadoutSize > 0)
        {
            int o = spec.ReadoutSize, dh = spec.LayerOutputSize;
            Transpose(parameters.Slice(layout.HeadWeights, o * dh), o, dh, packed.Slice(layout.HeadWeights, o * dh));
        }
    }

    /// <summary>destination[j, i] = source[i, j] for a rows × cols source.</summary>
    private static void Transpose(ReadOnlySpan<float> source, int rows, int cols, Span<float> destination)
    {
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> row = source.Slice(i * cols, cols);
            for (int j = 0; j < cols; j++) destination[j * rows + i] = row[j];
        }
    }
}
