namespace SimdRnn.Kernels;

public static partial class Activations
{
    /// <summary>The scalar twins of the activation kernels (same approximation as the vectorized path, one lane at a time).</summary>
    internal static class Scalar
    {
        // PLACEHOLDER: to be replaced by the scalar form of the approximation.
        public static float Tanh(float x) => MathF.Tanh(x);

        public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

        public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
        {
            for (int i = 0; i < x.Length; i++) y[i] = Tanh(x[i]);
        }

        public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
        {
            for (int i = 0; i < x.Length; i++) y[i] = Sigmoid(x[i]);
        }
    }
}
