namespace SimdRnn.Kernels;

public static partial class Gemm
{
    /// <summary>
    /// The scalar twins of the GEMM kernels: the definitions as plain triple loops, one multiply-add at a time with
    /// the inner index <c>p</c> in increasing order. Arguments are assumed valid (checked by the public entry points).
    /// </summary>
    internal static class Scalar
    {
        /// <summary>C[i,j] = (accumulate ? C[i,j] : 0) + Σ_p A[i,p]·B[j,p]; the dot product is summed first, then added once.</summary>
        public static void MultiplyTransposed(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c, bool accumulate)
        {
            for (int i = 0; i < m; i++)
            {
                ReadOnlySpan<float> aRow = a.Slice(i * k, k);
                Span<float> cRow = c.Slice(i * n, n);
                for (int j = 0; j < n; j++)
                {
                    ReadOnlySpan<float> bRow = b.Slice(j * k, k);
                    float sum = 0f;
                    for (int p = 0; p < k; p++) sum += aRow[p] * bRow[p];
                    cRow[j] = accumulate ? cRow[j] + sum : sum;
                }
            }
        }

        /// <summary>C[i,j] += Σ_p A[i,p]·B[p,j], in (i, p, j) order: row i of C gains A[i,p] times row p of B.</summary>
        public static void MultiplyAccumulate(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c)
        {
            for (int i = 0; i < m; i++)
            {
                Span<float> cRow = c.Slice(i * n, n);
                for (int p = 0; p < k; p++)
                {
                    float aip = a[i * k + p];
                    ReadOnlySpan<float> bRow = b.Slice(p * n, n);
                    for (int j = 0; j < n; j++) cRow[j] += aip * bRow[j];
                }
            }
        }

        /// <summary>C[i,j] += Σ_p A[p,i]·B[p,j], in (i, p, j) order: row i of C gains A[p,i] times row p of B.</summary>
        public static void TransposedMultiplyAccumulate(ReadOnlySpan<float> a, int k, int m, ReadOnlySpan<float> b, int n, Span<float> c)
        {
            for (int i = 0; i < m; i++)
            {
                Span<float> cRow = c.Slice(i * n, n);
                for (int p = 0; p < k; p++)
                {
                    float api = a[p * m + i];
                    ReadOnlySpan<float> bRow = b.Slice(p * n, n);
                    for (int j = 0; j < n; j++) cRow[j] += api * bRow[j];
                }
            }
        }
    }
}
