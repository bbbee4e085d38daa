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
    /// GEMV, whose bits are the GEMM's (see <see cref="MultiplyRows"/>). A matrix that quantizes its inputs
    /// (<see cref="PackedMatrix.QuantizesInputs"/>) runs every product on the int8×int16 kernels instead, whose rows get
    /// the same bits whatever the row count, so <paramref name="oneRowOnGemm"/> and <paramref name="usePanels"/> do not
    /// apply to it.
    /// </summary>
    public static void Multiply(PackedMatrix w, ReadOnlySpan<float> x, int rows, Span<float> y, bool accumulate, bool oneRowOnGemm = false,
        bool usePanels = false, bool descending = false) =>
        MultiplyRows(w, 0, w.Rows, x, rows, y, accumulate, oneRowOnGemm, usePanels, descending);

    /// <summary>
    /// Y[rows × count] = (accumulate ? Y : 0) + X[rows × W.Cols]·W[first .. first + count)ᵀ: the product with a block of
    /// W's rows (a GRU's r, z or n gates). One row: GEMV over the stored format's block (and its scales). More rows: the
    /// broadcast GEMM kernel over the block's columns of the effective weights' transposed copy (rows
    /// [first, first + count) of W are columns of Wᵀ, <paramref name="firstRow"/> floats in, W.Rows apart), at the full
    /// width, each element the same sum in the same order as in <see cref="Multiply"/>. <paramref name="usePanels"/> (batches,
    /// B ≥ 2): a whole product (all of W's rows) reads Wᵀ's pre-packed slivers (<see cref="PackedMatrix.Panels"/>), the
    /// same bits. <paramref name="oneRowOnGemm"/>: one row on the GEMM kernel as well (see <see cref="Multiply"/>).
    /// <paramref name="descending"/>: a one-row product reads W's rows from the last block to the first (see
    /// <see cref="MultiplyOneRow"/>), the same bits; the engines ask for it on every other step of a sequence whose W_hh
    /// is at least <see cref="DescendingMinBytes"/>.
    /// </summary>
    public static void MultiplyRows(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, int rows, Span<float> y, bool accumulate,
        bool oneRowOnGemm = false, bool usePanels = false, bool descending = false) =>
        Product(w, firstRow, rowCount, x, rows, y, accumulate, default, oneRowOnGemm, usePanels, descending);

    /// <summary>
    /// Y[rows × W.Rows] = S + X[rows × W.Cols]·Wᵀ with <paramref name="start"/> (W.Rows floats, a bias) in every row of S:
    /// the bits of broadcasting the start into Y and then accumulating (<see cref="Multiply"/>), but on the GEMM kernel
    /// the sums begin from the start row in registers, so Y is written once instead of twice.
    /// </summary>
    public static void MultiplyFrom(PackedMatrix w, ReadOnlySpan<float> start, ReadOnlySpan<float> x, int rows, Span<float> y, bool oneRowOnGemm = false,
        bool usePanels = false) =>
        Product(w, 0, w.Rows, x, rows, y, accumulate: false, start, oneRowOnGemm, usePanels, descending: false);

    /// <summary>
    /// The products' one router: Y = S + X·W[first .. first + count)ᵀ, where S is <paramref name="start"/> in every row
    /// when it is not empty, else Y (<paramref name="accumulate"/>) or zeros. The GEMM kernel begins each sum from S
    /// (Y's old contents are then never read), which gives the bits of writing S into Y first.
    /// </summary>
    private static void Product(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, int rows, Span<float> y, bool accumulate,
        ReadOnlySpan<float> start, bool oneRowOnGemm, bool usePanels, bool descending)
    {
        int k = w.Cols;
        bool hasStart = !start.IsEmpty;
        if (w.QuantizesInputs)
        {
            // Each input row quantized on its own (its own s_x), through the int8×int16 kernels: a row gets the same bits
            // alone or among others, on every path.
            if (rows == 0) return;
            Span<float> rowsOut = y.Slice(0, rows * rowCount);
            StartRows(start, accumulate, rows, rowsOut);
            if (k == 0) return;
            Gemv.MultiplyAccumulateInt8QuantizedInputUnchecked(w, firstRow, rowCount, x.Slice(0, rows * k), rows, rowsOut,
                descending ? DescendingBlockRows : 0);
            return;
        }
        // The paired bf16 GEMV sums each row from zero in column order by fused multiply-adds into the row's own lane:
        // the GEMM kernel's chain over the same (widened) weights. So an overwritten bf16 row keeps the GEMV, half the
        // bytes, even where the GEMM's bits are required; fp32 and int8 rows do not (dot products split across lanes,
        // int8's scale applied after the sum). An int8 row that needs the GEMM's bits runs the one-row int8 kernel
        // over qᵀ instead, which forms each effective weight in registers as the fp32 copy holds it.
        if (rows == 1 && (!oneRowOnGemm || (w.Format == WeightFormat.BFloat16 && !accumulate && !hasStart)))
        {
            Span<float> y1 = y.Slice(0, rowCount);
            StartRows(start, accumulate, 1, y1);
            MultiplyOneRow(w, firstRow, rowCount, x.Slice(0, k), y1, descending);
            return;
        }
        if (rows == 0) return;
        Span<float> c = y.Slice(0, rows * rowCount);
        if (k == 0 || (rows == 1 && w.Format == WeightFormat.Int8))
        {
            // An empty product is its start; the int8 one-row kernel accumulates onto C.
            StartRows(start, accumulate, rows, c);
            if (k > 0)
                Gemm.MultiplyAccumulateOneRowInt8Unchecked(x, k, w.Int8Transposed, w.Rows, firstRow, rowCount, w.RowScales.Slice(firstRow, rowCount), c);
            return;
        }
        ReadOnlySpan<float> from = hasStart ? start.Slice(0, rowCount) : accumulate ? default : Zeros(rowCount);
        if (usePanels && rows >= 2 && firstRow == 0 && rowCount == w.Rows)
        {
            Width width = VectorWidth.For(w.Rows);
            Gemm.MultiplyAccumulatePanelsAt(width, x, rows, k, w.Transposed, w.Panels(VectorWidth.Lanes(width)), w.Rows, c, from);
            return;
        }
        Gemm.MultiplyAccumulateColumnsUnchecked(x, rows, k, w.Transposed, w.Rows, firstRow, rowCount, c, from);
    }

    /// <summary>Writes S into the <paramref name="rows"/> rows of C: the start row in each, or zeros unless accumulating.</summary>
    private static void StartRows(ReadOnlySpan<float> start, bool accumulate, int rows, Span<float> c)
    {
        if (!start.IsEmpty) BroadcastRows(start.Slice(0, c.Length / rows), rows, c);
        else if (!accumulate) c.Clear();
    }

    private static float[] s_zeros = new float[1024];

    /// <summary>
    /// n zeros, the start row of an overwriting product (the GEMM then never reads C). A shared array that is never
    /// written; <see cref="ReserveZeros"/> sizes it when a matrix is built, so a product does not allocate.
    /// </summary>
    private static ReadOnlySpan<float> Zeros(int n)
    {
        ReserveZeros(n);
        return Volatile.Read(ref s_zeros).AsSpan(0, n);
    }

    /// <summary>Makes the shared zero row at least <paramref name="n"/> long (called when a matrix of n rows is built).</summary>
    internal static void ReserveZeros(int n)
    {
        float[] zeros = Volatile.Read(ref s_zeros);
        while (zeros.Length < n)
        {
            float[] wider = new float[Math.Max(n, 2 * zeros.Length)];
            float[] seen = Interlocked.CompareExchange(ref s_zeros, wider, zeros);
            zeros = ReferenceEquals(seen, zeros) ? wider : seen; // lost a race: keep the other thread's, if wide enough
        }
    }

    /// <summary>
    /// The least bytes of W_hh for which a sequence alternates the order of its one-row products (snake order): half of
    /// this CPU family's 1 MiB L2 per core; a smaller matrix stays in L2 from one step to the next in either order.
    /// </summary>
    internal const long DescendingMinBytes = 512 * 1024;

    /// <summary>
    /// The rows of one block of a descending fp32, int8 or int8×int16 GEMV: a multiple of every kernel's row group (eight
    /// rows), so that each row is summed in the same group, by the same operations, as in ascending order.
    /// </summary>
    internal const int DescendingBlockRows = 64;

    /// <summary>
    /// y[count] += W[first .. first + count)·x through the GEMV kernel of W's stored format. <paramref name="descending"/>:
    /// the rows in blocks from the last to the first. A sequence's steps alternate the order ("snake" order): when W is
    /// larger than L2, the rows a step read last are still in L2 and the next step reads them first, so only the rest
    /// comes from L3 (a 1.5 MiB W: 1.12× in a probe on the Zen 4, 3 MiB 1.07×). The blocks are whole row groups of the
    /// kernels (<see cref="DescendingBlockRows"/> rows counted from <paramref name="firstRow"/>; bf16: whole panels of the
    /// paired layout, whose rows are each summed in their own lane anyway), so every row is the same sum either way.
    /// </summary>
    internal static void MultiplyOneRow(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, Span<float> y, bool descending = false)
    {
        if (!descending)
        {
            MultiplyOneRowBlock(w, firstRow, rowCount, x, y);
            return;
        }
        bool panels = w.Format == WeightFormat.BFloat16;
        int block = panels ? w.PanelRows : DescendingBlockRows, origin = panels ? 0 : firstRow;
        for (int top = firstRow + rowCount; top > firstRow;)
        {
            int start = Gemv.DescendingBlockStart(top, firstRow, origin, block);
            MultiplyOneRowBlock(w, start, top - start, x, y.Slice(start - firstRow, top - start));
            top = start;
        }
    }

    private static void MultiplyOneRowBlock(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, Span<float> y)
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
    private static void BroadcastRows(ReadOnlySpan<float> row, int m, Span<float> c)
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
