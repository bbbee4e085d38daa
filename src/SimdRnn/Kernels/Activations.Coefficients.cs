namespace SimdRnn.Kernels;

public static partial class Activations
{
    /// <summary>
    /// The constants shared by the scalar twin and the vectorized kernels (the same approximation on every path).
    /// The polynomial coefficients come from tools/fit_activations.py (weighted minimax fits, rounded to float);
    /// the derivation and the measured errors are in docs/accuracy.md.
    /// </summary>
    internal static class Coefficients
    {
        // ---- tanh, small branch: tanh(a) ≈ a + a³·P(a²) for 0 ≤ a < TanhSmall, P(s) = T3 + T5·s + T7·s² + T9·s³.
        // Minimax in relative error on (0, 0.4]: 1.8e-9 with these float coefficients in exact arithmetic.

        /// <summary>Below this |x| tanh uses the odd polynomial; from it on, 1 − 2/(e^{2|x|} + 1).</summary>
        public const float TanhSmall = 0.4f;
        public const float T3 = -0.33333298563957214f;
        public const float T5 = 0.1333121359348297f;
        public const float T7 = -0.05356193706393242f;
        public const float T9 = 0.01874406263232231f;

        /// <summary>
        /// The clamp on z = 2|x| in the tanh exp branch: at z = 20, 2/(e^20 + 1) ≈ 4.1e-9 is below half an ulp
        /// of 1 (2.98e-8), so 1 − 2/(e^z + 1) rounds to exactly 1, which is also the correctly rounded tanh for |x| ≥ 10.
        /// </summary>
        public const float TanhZMax = 20f;

        // ---- sigmoid: e = e^{−|x|} with |x| clamped to SigmoidAbsMax; below −SigmoidAbsMax the result is 0.

        /// <summary>
        /// The clamp on |x| in the sigmoid exp: z = −86.5 gives n = round(z·log2 e) = −125 at the lowest, so
        /// 2^n·e^r (e^r ≥ 2^−½) stays a normal float and the exponent-bit scaling is exact. sigmoid(−86.5) ≈ 2.6e-38,
        /// so flushing x &lt; −86.5 to 0 costs at most 2.6e-38 absolute error.
        /// </summary>
        public const float SigmoidAbsMax = 86.5f;

        // ---- e^z by Cody–Waite reduction: n = round(z·log2 e), r = z − n·Ln2Hi − n·Ln2Lo ∈ [−ln2/2, ln2/2] (a bit
        // wider when the product is rounded before the rounding to an integer), e^z = 2^n · E(r),
        // E(r) = 1 + r + E2·r² + E3·r³ + E4·r⁴ + E5·r⁵ + E6·r⁶, minimax in relative error: 4.7e-9 in exact arithmetic.

        public const float Log2E = 1.44269502f;
        /// <summary>ln 2 rounded to 9 significant bits, so n·Ln2Hi is exact for |n| &lt; 2^15 even without FMA.</summary>
        public const float Ln2Hi = 0.693359375f;
        /// <summary>ln 2 − Ln2Hi rounded to float (the remaining error, 1.6e-12, times |n| ≤ 126 is negligible).</summary>
        public const float Ln2Lo = -2.12194442e-4f;
        /// <summary>
        /// 1.5·2^23: for |t| &lt; 2^22, t + RoundMagic rounds t to the nearest integer n (ties to even) and holds
        /// RoundMagic + n exactly, whose bit pattern is 0x4B400000 + n; shifted left by 23 that is n·2^23 (mod 2^32),
        /// the exponent-field increment that multiplies a float by 2^n.
        /// </summary>
        public const float RoundMagic = 12582912f;
        public const float E2 = 0.4999999403953552f;
        public const float E3 = 0.16666515171527863f;
        public const float E4 = 0.04166845604777336f;
        public const float E5 = 0.008369418792426586f;
        public const float E6 = 0.0013813144760206342f;
    }
}
