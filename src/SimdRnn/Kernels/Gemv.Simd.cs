namespace SimdRnn.Kernels;

public static partial class Gemv
{
    /// <summary>The vectorized GEMV kernels. Arguments are assumed valid and <c>cols ≥ Vector&lt;float&gt;.Count</c>.</summary>
    internal static class Simd
    {
        // PLACEHOLDER: to be replaced by the vectorized implementation.
        public static void MultiplyAccumulate(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
            => Scalar.MultiplyAccumulate(w, rows, cols, x, y);

        public static void MultiplyTransposedAccumulate(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
            => Scalar.MultiplyTransposedAccumulate(w, rows, cols, x, y);

        public static void AddOuterProduct(Span<float> g, int rows, int cols, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
            => Scalar.AddOuterProduct(g, rows, cols, a, b);
    }
}
