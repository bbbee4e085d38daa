using SimdRnn.Cells;
using SimdRnn.Kernels;

namespace SimdRnn.Networks;

/// <summary>One time step of one layer and direction for B streams, shared by sequence mode and streaming mode.</summary>
internal static class RecurrentStep
{
    /// <summary>
    /// Given the input projections <paramref name="projection"/> [B, G·H] (biases folded in) and the previous states,
    /// computes <c>Q = H_prev·W_hhᵀ</c> with one product for all streams, then one cell pass per stream.
    /// <paramref name="cache"/> [B, S] receives the history a backward pass needs (empty in inference);
    /// <paramref name="resetHidden"/> [B, H] receives r ⊙ h_prev for the GRU without linear-before-reset.
    /// <paramref name="weights"/> gives W_hh and the GRU's b_hn; <paramref name="cellScratch"/> (≥ 5H)
    /// holds one stream's gates in inference. <paramref name="q"/> (≥ B·G·H) and <paramref name="gates"/> (≥ B·2H, that GRU form in inference) are scratch.
    /// <paramref name="oneRowOnGemm"/>: B = 1 runs Q on the GEMM kernel, as B ≥ 2 does, instead of the GEMV kernel.
    /// <paramref name="descending"/>: B = 1 reads a large W_hh from its last rows to its first (a sequence alternates it
    /// from step to step, <see cref="MatrixProducts.MultiplyOneRow"/>); the same bits.
    /// </summary>
    public static void Forward(RecurrentSpec spec, int batch, ReadOnlySpan<float> projection, LayerWeights weights,
        ReadOnlySpan<float> hPrev, Span<float> hNext, ReadOnlySpan<float> cPrev, Span<float> cNext, Span<float> cache, Span<float> resetHidden,
        Span<float> q, Span<float> gates, Span<float> cellScratch, bool oneRowOnGemm = false,
        bool descending = false)
    {
        int h = spec.HiddenSize, gh = spec.Gates * h;
        PackedMatrix whh = weights.Recurrent;
        ReadOnlySpan<float> bhn = weights.ResetBias;
        bool keep = !cache.IsEmpty;
        int cacheWidth = keep ? cache.Length / batch : 0;
        q = q.Slice(0, batch * gh);
        if (spec.Cell == CellKind.Gru && !spec.LinearBeforeReset)
        {
            // r, z from Q_rz = H_prev·W_h[rz]ᵀ; then Q_n = (r ⊙ H_prev)·W_hnᵀ; then n and h.
            int h2 = 2 * h;
            Span<float> qrz = q.Slice(0, batch * h2);
            MatrixProducts.MultiplyRows(whh, 0, h2, hPrev, batch, qrz, accumulate: false, oneRowOnGemm, usePanels: batch > 1, descending);
            for (int b = 0; b < batch; b++)
            {
                Span<float> g = keep ? cache.Slice(b * cacheWidth, h2) : gates.Slice(b * h2, h2);
                GruCell.ResetGate(projection.Slice(b * gh, gh), qrz.Slice(b * h2, h2), hPrev.Slice(b * h, h), resetHidden.Slice(b * h, h), g);
            }
            Span<float> qn = q.Slice(batch * h2, batch * h);
            MatrixProducts.MultiplyRows(whh, h2, h, resetHidden, batch, qn, accumulate: false, oneRowOnGemm, descending: descending);
            for (int b = 0; b < batch; b++)
            {
                ReadOnlySpan<float> z = keep ? cache.Slice(b * cacheWidth + h, h) : gates.Slice(b * h2 + h, h);
                GruCell.Candidate(projection.Slice(b * gh, gh), qn.Slice(b * h, h), bhn, z, hPrev.Slice(b * h, h), hNext.Slice(b * h, h),
                    keep ? cache.Slice(b * cacheWidth + h2, h) : default);
            }
            return;
        }

        // Q = H_prev·W_hhᵀ for all B streams, then the cell pass of every stream (the GRU and LSTM choose their width
        // once for all B rows).
        MatrixProducts.Multiply(whh, hPrev, batch, q, accumulate: false, oneRowOnGemm, usePanels: batch > 1, descending);
        switch (spec.Cell)
        {
            case CellKind.Gru:
                GruCell.ForwardRows(batch, projection.Slice(0, batch * gh), q, bhn, hPrev.Slice(0, batch * h), hNext.Slice(0, batch * h), cache, cellScratch);
                break;
            case CellKind.Lstm:
                LstmCell.ForwardRows(batch, projection.Slice(0, batch * gh), q, cPrev.Slice(0, batch * h), cNext.Slice(0, batch * h), hNext.Slice(0, batch * h), cache, cellScratch);
                break;
            default:
                for (int b = 0; b < batch; b++)
                    RnnCell.Forward(spec.Nonlinearity.ToCell(), projection.Slice(b * gh, gh), q.Slice(b * gh, gh), hNext.Slice(b * h, h));
                break;
        }
    }
}
