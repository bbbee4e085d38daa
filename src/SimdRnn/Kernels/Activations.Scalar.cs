using System.Runtime.CompilerServices;
using static SimdRnn.Kernels.Activations.Coefficients;

namespace SimdRnn.Kernels;

public static partial class Activations
{
    /// <summary>
    /// The scalar twins of the activation kernels: the same approximation, constants and operation order as the
    /// vectorized path (<see cref="float.MultiplyAddEstimate"/> where the vectors use
    /// <c>Vector.MultiplyAddEstimate</c>), one element at a time.
    /// </summary>
    internal static class Scalar
    {
        /// <summary>tanh of one float.</summary>
        public static float Tanh(float x)
        {
            float a = MathF.Abs(x);
            float m;
            if (a >= TanhSmall)
            {
                // |tanh x| = 1 − 2/(e^{2a} + 1), with 2a clamped to TanhZMax (the result is 1 from there on).
                float e = ExpReduced(MathF.Min(a + a, TanhZMax));
                m = 1f - 2f / (e + 1f);
            }
            else
            {
                // |tanh x| = a + a³·P(a²), also for NaN (a ≥ TanhSmall is false for NaN, and NaN propagates).
                float s = a * a;
                float p = float.MultiplyAddEstimate(float.MultiplyAddEstimate(float.MultiplyAddEstimate(T9, s, T7), s, T5), s, T3);
                m = float.MultiplyAddEstimate(a * s, p, a);
            }
            // m ≥ 0 (or NaN); OR-ing in x's sign bit gives tanh's oddness, including tanh(−0) = −0.
            return BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(m) | (BitConverter.SingleToInt32Bits(x) & int.MinValue));
        }

        /// <summary>The logistic sigmoid of one float.</summary>
        public static float Sigmoid(float x)
        {
            // e = e^{−|x|} ∈ (0, 1], never overflowing; sigmoid(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0.
            float e = ExpReduced(-MathF.Min(MathF.Abs(x), SigmoidAbsMax));
            float r = (x >= 0f ? 1f : e) / (1f + e);
            // Below −SigmoidAbsMax the true value is under 2.6e-38: return 0 (so sigmoid(−∞) = 0). NaN stays NaN.
            if (x < -SigmoidAbsMax) r = 0f;
            return float.IsNaN(x) ? x : r;
        }

        /// <summary>
        /// e^z for z ∈ [−86.5, 20] (the callers clamp): n = round(z·log2 e), r = z − n·ln 2 (two-part constant),
        /// E(r) by Horner, times 2^n by adding n to the exponent field (the result stays normal over that range).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static float ExpReduced(float z)
        {
            float t = float.MultiplyAddEstimate(z, Log2E, RoundMagic);    // RoundMagic + n
            float n = t - RoundMagic;                                     // n, exactly
            float r = float.MultiplyAddEstimate(n, -Ln2Hi, z);            // exact: n·Ln2Hi has ≤ 17 significant bits
            r = float.MultiplyAddEstimate(n, -Ln2Lo, r);
            float p = float.MultiplyAddEstimate(E6, r, E5);               // E(r) = 1 + r(1 + r(E2 + r(E3 + r(E4 + r(E5 + r·E6)))))
            p = float.MultiplyAddEstimate(p, r, E4);
            p = float.MultiplyAddEstimate(p, r, E3);
            p = float.MultiplyAddEstimate(p, r, E2);
            p = float.MultiplyAddEstimate(p, r, 1f);
            p = float.MultiplyAddEstimate(p, r, 1f);
            int scale = BitConverter.SingleToInt32Bits(t) << 23;          // n·2^23: 2^n in the exponent field
            return BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(p) + scale);
        }

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
