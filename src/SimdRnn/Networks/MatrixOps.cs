using SimdRnn.Kernels;

namespace SimdRnn.Networks;

/// <summary>
/// The three matrix products a recurrent layer needs, row-major and contiguous, routed to the GEMV kernels when one
/// side is a single row (a streaming step, B = 1) and to the GEMM kernels otherwise.
/// </summary>
internal static class MatrixOps
{
    /// <summary>C[m×n] = (accumulate ? C : 0) + A[m×k]·B[n×k]ᵀ (inputs times a weight matrix stored [out, in]).</summary>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c, bool accumulate)
    {
        if (m == 1)
        {
            if (!accumulate) c.Slice(0, n).Clear();
            Gemv.MultiplyAccumulate(b.Slice(0, n * k), n, k, a.Slice(0, k), c.Slice(0, n));
            return;
        }
        Gemm.MultiplyTransposed(a.Slice(0, m * k), m, k, b.Slice(0, n * k), n, c.Slice(0, m * n), accumulate);
    }

    /// <summary>
    /// C[m×n] = (accumulate ? C : 0) + A[m×k]·B[n×k]ᵀ, given also <paramref name="bTransposed"/> = Bᵀ [k×n]: with more
    /// than one row the product runs as A·(Bᵀ) on the faster broadcast kernel (see <see cref="PackedWeights"/>).
    /// </summary>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, ReadOnlySpan<float> bTransposed, int n, Span<float> c, bool accumulate)
    {
        if (m == 1 || bTransposed.IsEmpty)
        {
            MultiplyTransposed(a, m, k, b, n, c, accumulate);
            return;
        }
        if (!accumulate) c.Slice(0, m * n).Clear();
        Gemm.MultiplyAccumulate(a.Slice(0, m * k), m, k, bTransposed.Slice(0, k * n), n, c.Slice(0, m * n));
    }

    /// <summary>C[m×n] += A[m×k]·B[k×n] (a gradient times a weight matrix, back to its inputs).</summary>
    public static void MultiplyAccumulate(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c)
    {
        if (m == 1)
        {
            Gemv.MultiplyTransposedAccumulate(b.Slice(0, k * n), k, n, a.Slice(0, k), c.Slice(0, n));
            return;
        }
        Gemm.MultiplyAccumulate(a.Slice(0, m * k), m, k, b.Slice(0, k * n), n, c.Slice(0, m * n));
    }

    /// <summary>C[m×n] += A[k×m]ᵀ·B[k×n] (a weight gradient summed over k rows of time steps and streams).</summary>
    public static void TransposedMultiplyAccumulate(ReadOnlySpan<float> a, int k, int m, ReadOnlySpan<float> b, int n, Span<float> c)
    {
        if (k == 1)
        {
            Gemv.AddOuterProduct(c.Slice(0, m * n), m, n, a.Slice(0, m), b.Slice(0, n));
            return;
        }
        Gemm.TransposedMultiplyAccumulate(a.Slice(0, k * m), k, m, b.Slice(0, k * n), n, c.Slice(0, m * n));
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
        for (int i = 0; i < m; i++) Elementwise.Accumulate(a.Slice(i * n, n), sum);
    }

    /// <summary>Swaps the first two axes of a [p, q, w] tensor into [q, p, w] (batch-first ↔ sequence-first).</summary>
    public static void SwapLeadingAxes(ReadOnlySpan<float> source, int p, int q, int w, Span<float> destination)
    {
        for (int i = 0; i < p; i++)
            for (int j = 0; j < q; j++)
                source.Slice((i * q + j) * w, w).CopyTo(destination.Slice((j * p + i) * w, w));
    }
}
