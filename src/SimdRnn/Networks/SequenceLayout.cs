namespace SimdRnn.Networks;

/// <summary>Batch-first ↔ sequence-first conversion of [p, q, w] tensors.</summary>
internal static class SequenceLayout
{
    /// <summary>Swaps the first two axes of a [p, q, w] tensor into [q, p, w] (batch-first ↔ sequence-first).</summary>
    public static void SwapLeadingAxes(ReadOnlySpan<float> source, int p, int q, int w, Span<float> destination)
    {
        for (int i = 0; i < p; i++)
            for (int j = 0; j < q; j++)
                source.Slice((i * q + j) * w, w).CopyTo(destination.Slice((j * p + i) * w, w));
    }
}
