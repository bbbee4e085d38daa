namespace SimdRnn.Kernels;

public static partial class Activations
{
    /// <summary>The vectorized activation kernels. Arguments are assumed valid and length ≥ Vector&lt;float&gt;.Count.</summary>
    internal static class Simd
    {
        // PLACEHOLDER: to be replaced by the vectorized implementation.
        public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Scalar.Tanh(x, y);

        public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => Scalar.Sigmoid(x, y);
    }
}
