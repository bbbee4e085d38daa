namespace SimdRnn.Kernels;

public static partial class Gemv
{
    /// <summary>
    /// The scalar twins of the GEMV kernels: the definitions, one multiply-add at a time in index order.
    /// Arguments are assumed valid (checked by the public entry points).
    /// </summary>
    internal static class Scalar
    {
        /// <summary>y[i] += Σ_j W[i,j]·x[j].</summary>
        public static void MultiplyAccumulate(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
        {
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> row = w.Slice(i * cols, cols);
                float sum = 0f;
                for (int j = 0; j < cols; j++) sum += row[j] * x[j];
                y[i] += sum;
            }
        }

        /// <summary>y[j] += Σ_i W[i,j]·x[i].</summary>
        public static void MultiplyTransposedAccumulate(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
        {
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> row = w.Slice(i * cols, cols);
                float xi = x[i];
                for (int j = 0; j < cols; j++) y[j] += row[j] * xi;
            }
        }

        /// <summary>G[i,j] += a[i]·b[j].</summary>
        public static void AddOuterProduct(Span<float> g, int rows, int cols, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            for (int i = 0; i < rows; i++)
            {
                Span<float> row = g.Slice(i * cols, cols);
                float ai = a[i];
                for (int j = 0; j < cols; j++) row[j] += ai * b[j];
            }
        }
    }
}
