using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

/// <summary>
/// The matrix products a recurrent layer needs, routed to the GEMV kernels when one side is a single row (a streaming
/// step, B = 1) and to the GEMM kernels otherwise. Internal hot paths: callers validated their arguments once at the
/// public boundary, so these call the unchecked kernels; spans are sliced to the exact shapes.
/// </summary>
internal static class MatrixProducts
{
    /// <summary>
    /// Y[rows × W.Rows] = (accumulate ? Y : 0) + X[rows × W.Cols]·Wᵀ (inputs times a weight matrix stored [out, in]),
    /// with W's effective weights (<see cref="PackedMatrix"/>). The format is dispatched once per call: one row runs as
    /// GEMV over the stored elements (fp32, or bf16/int8 widened in registers, the scale applied after each row's dot
    /// product); more rows as X·(Wᵀ) on the fp32 broadcast GEMM kernel over the effective weights' transposed copy.
    /// <paramref name="oneRowOnGemm"/> sends one row to the GEMM kernel too, so that it gets the bits it would get among
    /// other rows (a batch-parallel part of one stream matches the serial batch); a bf16 row that overwrites Y keeps the
    /// GEMV, whose bits are the GEMM's (see <see cref="MultiplyRows"/>).
    /// </summary>
    public static void Multiply(PackedMatrix w, ReadOnlySpan<float> x, int rows, Span<float> y, bool accumulate, bool oneRowOnGemm = false,
        bool usePanels = false) =>
        MultiplyRows(w, 0, w.Rows, x, rows, y, accumulate, oneRowOnGemm, usePanels);

    /// <summary>
    /// Y[rows × W.Rows] += X·Wᵀ (rows ≥ 2) on the broadcast GEMM kernel reading Wᵀ's slivers pre-packed for the width
    /// it runs at (<see cref="PackedMatrix.Panels"/>): the bits of the kernel over Wᵀ, without its per-call copies.
    /// </summary>
    private static void MultiplyAccumulateOnPanels(PackedMatrix w, ReadOnlySpan<float> x, int rows, Span<float> y)
    {
        Width width = VectorWidth.For(w.Rows);
        Gemm.MultiplyAccumulatePanelsAt(width, x, rows, w.Cols, w.Transposed, w.Panels(VectorWidth.Lanes(width)), w.Rows, y);
    }

    /// <summary>
    /// Y[rows × count] = (accumulate ? Y : 0) + X[rows × W.Cols]·W[first .. first + count)ᵀ: the product with a block of
    /// W's rows (a GRU's r, z or n gates). One row: GEMV over the stored format's block (and its scales). More rows: the
    /// broadcast GEMM kernel over the block's columns of the effective weights' transposed copy (rows
    /// [first, first + count) of W are columns of Wᵀ, <paramref name="firstRow"/> floats in, W.Rows apart), at the full
    /// width, each element the same sum in the same order as in <see cref="Multiply"/>. <paramref name="usePanels"/> (batches,
    /// B ≥ 2): a whole product (all of W's rows) reads Wᵀ's pre-packed slivers (<see cref="PackedMatrix.Panels"/>), the
    /// same bits. <paramref name="oneRowOnGemm"/>: one row on the GEMM kernel as well (see <see cref="Multiply"/>).
    /// </summary>
    public static void MultiplyRows(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, int rows, Span<float> y, bool accumulate,
        bool oneRowOnGemm = false, bool usePanels = false)
    {
        int k = w.Cols;
        // The paired bf16 GEMV sums each row from zero in column order by fused multiply-adds into the row's own lane:
        // the GEMM kernel's chain over the same (widened) weights. So an overwritten bf16 row keeps the GEMV, half the
        // bytes, even where the GEMM's bits are required; fp32 and int8 rows do not (dot products split across lanes,
        // int8's scale applied after the sum). An int8 row that needs the GEMM's bits runs the one-row int8 kernel
        // over qᵀ instead, which forms each effective weight in registers as the fp32 copy holds it.
        if (rows == 1 && (!oneRowOnGemm || (w.Format == WeightFormat.BFloat16 && !accumulate)))
        {
            Span<float> y1 = y.Slice(0, rowCount);
            if (!accumulate) y1.Clear();
            MultiplyOneRow(w, firstRow, rowCount, x.Slice(0, k), y1);
            return;
        }
        if (rows == 0) return;
        Span<float> c = y.Slice(0, rows * rowCount);
        if (!accumulate) c.Clear();
        if (rows == 1 && w.Format == WeightFormat.Int8)
        {
            Gemm.MultiplyAccumulateOneRowInt8Unchecked(x, k, w.Int8Transposed, w.Rows, firstRow, rowCount, w.RowScales.Slice(firstRow, rowCount), c);
            return;
        }
        if (usePanels && rows >= 2 && firstRow == 0 && rowCount == w.Rows)
        {
            MultiplyAccumulateOnPanels(w, x, rows, c);
            return;
        }
        Gemm.MultiplyAccumulateColumnsUnchecked(x, rows, k, w.Transposed, w.Rows, firstRow, rowCount, c);
    }

    /// <summary>y[count] += W[first .. first + count)·x through the GEMV kernel of W's stored format.</summary>
    private static void MultiplyOneRow(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, Span<float> y)
    {
        int k = w.Cols, start = firstRow * k, length = rowCount * k;
        switch (w.Format)
        {
            case WeightFormat.BFloat16:
                Gemv.MultiplyAccumulatePairedBFloat16Unchecked(w.PairedBFloat16Data, w.Rows, k, w.PanelRows, firstRow, rowCount, x, y);
                break;
            case WeightFormat.Int8:
                Gemv.MultiplyAccumulateInt8Unchecked(w.Int8Data.Slice(start, length), w.RowScales.Slice(firstRow, rowCount), rowCount, k, x, y);
                break;
            default:
                Gemv.MultiplyAccumulateUnchecked(w.Data.Slice(start, length), rowCount, k, x, y);
                break;
        }
    }

    /// <summary>C[m×n] += A[m×k]·B[k×n] (a gradient times a weight matrix, back to its inputs).</summary>
    public static void MultiplyAccumulate(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c)
    {
        if (m == 1)
        {
            Gemv.MultiplyTransposedAccumulateUnchecked(b.Slice(0, k * n), k, n, a.Slice(0, k), c.Slice(0, n));
            return;
        }
        Gemm.MultiplyAccumulateUnchecked(a.Slice(0, m * k), m, k, b.Slice(0, k * n), n, c.Slice(0, m * n));
    }

    /// <summary>C[m×n] += A[k×m]ᵀ·B[k×n] (a weight gradient summed over k rows of time steps and streams).</summary>
    public static void TransposedMultiplyAccumulate(ReadOnlySpan<float> a, int k, int m, ReadOnlySpan<float> b, int n, Span<float> c)
    {
        if (k == 1)
        {
            Gemv.AddOuterProductUnchecked(c.Slice(0, m * n), m, n, a.Slice(0, m), b.Slice(0, n));
            return;
        }
        Gemm.TransposedMultiplyAccumulateUnchecked(a.Slice(0, k * m), k, m, b.Slice(0, k * n), n, c.Slice(0, m * n));
    }

    /// <summary>Every row of C[m×n] = <paramref name="row"/> (a bias broadcast before an accumulating product).</summary>
    public static void BroadcastRows(ReadOnlySpan<float> row, int m, Span<float> c)
    {
        int n = row.Length;
        for (int i = 0; i < m; i++) row.CopyTo(c.Slice(i * n, n));
    }

    /// <summary>sum[j] += Σ_i A[i, j] over the m rows of A[m×n] (a bias gradient).</summary>
    public static void AccumulateColumnSums(ReadOnlySpan<float> a, int m, Span<float> sum)
    {
        int n = sum.Length;
        for (int i = 0; i < m; i++) Elementwise.AccumulateUnchecked(a.Slice(i * n, n), sum);
    }
}
