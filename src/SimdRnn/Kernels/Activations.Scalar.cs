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
            // |tanh x| = (e^{2a} − 1)/(e^{2a} + 1) = m/(m + 2), m = e^{2a} − 1, a = |x|, 2a clamped to TanhZMax
            // (m/(m + 2) rounds to 1 from there on). m ≥ 0 and m ≤ m + 2, so the quotient lies in [0, 1].
            // MathF.Min returns NaN for a NaN a, which flows through to the result.
            float a = MathF.Abs(x);
            float q = ExpReduced(MathF.Min(TanhZMax, a + a), out float scale);
            float m = float.MultiplyAddEstimate(scale, q, scale - 1f);     // e^{2a} − 1 = 2^n·q + (2^n − 1)
            float t = m / (m + 2f);
            // t ≥ 0 (or NaN); OR-ing in x's sign bit gives tanh's oddness, including tanh(−0) = −0.
            return BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(t) | (BitConverter.SingleToInt32Bits(x) & int.MinValue));
        }

        /// <summary>The logistic sigmoid of one float.</summary>
        public static float Sigmoid(float x)
        {
            // e = e^{−a} ∈ (0, 1], a = min(|x|, SigmoidAbsMax): never overflows.
            // sigmoid(x) = 1/(1 + e) for x ≥ 0 (−0 included), e/(1 + e) for x < 0; both in [0, 1]. NaN flows through.
            float q = ExpReduced(-MathF.Min(SigmoidAbsMax, MathF.Abs(x)), out float scale);
            float e = float.MultiplyAddEstimate(scale, q, scale);          // e^{−a} = 2^n·q + 2^n
            float r = (x >= 0f ? 1f : e) / (1f + e);
            // Below −SigmoidAbsMax (−∞ included) the true value is under 2.6e-38: 0.
            return x < -SigmoidAbsMax ? 0f : r;
        }

        /// <summary>
        /// The reduction of e^z for z ∈ [−86.5, 20] (the callers clamp): n = round(z·log2 e), r = z − n·ln 2 (two-part
        /// constant), returns q = r + r²·Q(r) ≈ e^r − 1 and <paramref name="scale"/> = 2^n, so e^z = 2^n·(1 + q).
        /// A NaN z gives a NaN q.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static float ExpReduced(float z, out float scale)
        {
            float t = float.MultiplyAddEstimate(z, Log2E, RoundMagic);    // RoundMagic + n
            float n = t - RoundMagic;                                     // n, exactly
            float r = float.MultiplyAddEstimate(n, -Ln2Hi, z);            // exact: n·Ln2Hi has ≤ 17 significant bits
            r = float.MultiplyAddEstimate(n, -Ln2Lo, r);
            float p = float.MultiplyAddEstimate(E5, r, E4);               // Q(r) = E2 + r(E3 + r(E4 + r·E5))
            p = float.MultiplyAddEstimate(p, r, E3);
            p = float.MultiplyAddEstimate(p, r, E2);
            // 2^n from its bits: (bits(t) << 23) = n·2^23, plus the bits of 1f.
            scale = BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(t) << 23) + 0x3F800000);
            return float.MultiplyAddEstimate(r * r, p, r);                // q = r + r²·Q(r)
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
