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
        /// <summary>
        /// The clamp on z = 2|x| in tanh: at z = 20, 2/(e^20 + 1) ≈ 4.1e-9 is below half an ulp
        /// of 1 (2.98e-8), so 1 − 2/(e^z + 1) rounds to exactly 1, which is also the correctly rounded tanh for |x| ≥ 10.
        /// </summary>
        public const float TanhZMax = 20f;

        // ---- sigmoid: e = e^{−|x|} with |x| clamped to SigmoidAbsMax; below −SigmoidAbsMax the result is 0.

        /// <summary>
        /// The clamp on |x| in the sigmoid exp: z = −86.5 gives n = round(z·log2 e) = −125 at the lowest, so
        /// 2^n built from its exponent bits is a normal float. sigmoid(−86.5) ≈ 2.6e-38,
        /// so flushing x &lt; −86.5 to 0 costs at most 2.6e-38 absolute error.
        /// </summary>
        public const float SigmoidAbsMax = 86.5f;

        // ---- e^z by Cody–Waite reduction: n = round(z·log2 e), r = z − n·Ln2Hi − n·Ln2Lo ∈ [−ln2/2, ln2/2] (a bit
        // wider when the product is rounded before the rounding to an integer), q(r) = r + r²·(E2 + E3·r + E4·r² +
        // E5·r³) ≈ e^r − 1, minimax in error relative to e^r − 1 (5.0e-7 in exact arithmetic, 2.1e-7 relative to e^r), then
        // e^z − 1 = 2^n·q + (2^n − 1) (no cancellation near z = 0, where n = 0) and e^z = 2^n·q + 2^n.

        public const float Log2E = 1.44269502f;
        /// <summary>ln 2 rounded to 9 significant bits, so n·Ln2Hi is exact for |n| &lt; 2^15 even without FMA.</summary>
        public const float Ln2Hi = 0.693359375f;
        /// <summary>ln 2 − Ln2Hi rounded to float (the remaining error, 1.6e-12, times |n| ≤ 126 is negligible).</summary>
        public const float Ln2Lo = -2.12194442e-4f;
        /// <summary>
        /// 1.5·2^23: for |t| &lt; 2^22, t + RoundMagic rounds t to the nearest integer n (ties to even) and holds
        /// RoundMagic + n exactly, whose bit pattern is 0x4B400000 + n; shifted left by 23 that is n·2^23 (mod 2^32),
        /// and adding the bits of 1f gives the bits of 2^n (for −126 ≤ n ≤ 127).
        /// </summary>
        public const float RoundMagic = 12582912f;
        public const float E2 = 0.49999353289604187f;
        public const float E3 = 0.16666844487190247f;
        public const float E4 = 0.04188082739710808f;
        public const float E5 = 0.008338242769241333f;
    }
}
