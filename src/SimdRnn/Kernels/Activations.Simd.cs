using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static SimdRnn.Kernels.Activations.Coefficients;

namespace SimdRnn.Kernels;

public static partial class Activations
{
    /// <summary>
    /// The vectorized activation kernels over <see cref="Vector{T}"/> (8 lanes with AVX2, 4 with SSE/NEON, and
    /// correct in software when not accelerated). Arguments are assumed valid and length ≥ Vector&lt;float&gt;.Count.
    /// Each lane computes exactly what <see cref="Scalar"/> computes, branch-free.
    /// </summary>
    internal static class Simd
    {
        public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
        {
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            int n = x.Length, count = Vector<float>.Count;
            // The last, overlapping vector is computed from the input before anything is stored, so y may be x.
            int last = n - count;
            var tail = Tanh(Vector.LoadUnsafe(ref xRef, (nuint)last));
            for (int i = 0; i < last; i += count)
                Tanh(Vector.LoadUnsafe(ref xRef, (nuint)i)).StoreUnsafe(ref yRef, (nuint)i);
            tail.StoreUnsafe(ref yRef, (nuint)last);
        }

        public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
        {
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            int n = x.Length, count = Vector<float>.Count;
            int last = n - count;
            var tail = Sigmoid(Vector.LoadUnsafe(ref xRef, (nuint)last));
            for (int i = 0; i < last; i += count)
                Sigmoid(Vector.LoadUnsafe(ref xRef, (nuint)i)).StoreUnsafe(ref yRef, (nuint)i);
            tail.StoreUnsafe(ref yRef, (nuint)last);
        }

        /// <summary>tanh of each lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Tanh(Vector<float> x)
        {
            var a = Vector.Abs(x);

            // Large branch: |tanh x| = 1 − 2/(e^{2a} + 1), 2a clamped to TanhZMax (|tanh| rounds to 1 beyond).
            // The clamp is on finite values only where it matters: lanes with a NaN take the small branch below.
            var e = ExpReduced(Vector.MinNative(a + a, new Vector<float>(TanhZMax)));
            var large = Vector<float>.One - new Vector<float>(2f) / (e + Vector<float>.One);

            // Small branch: |tanh x| = a + a³·P(a²) (relative accuracy down to a → 0; a = 0 gives +0).
            var s = a * a;
            var p = Vector.MultiplyAddEstimate(new Vector<float>(T9), s, new Vector<float>(T7));
            p = Vector.MultiplyAddEstimate(p, s, new Vector<float>(T5));
            p = Vector.MultiplyAddEstimate(p, s, new Vector<float>(T3));
            var small = Vector.MultiplyAddEstimate(a * s, p, a);

            // Blend (a ≥ TanhSmall is false for NaN, whose small branch is NaN), then OR in x's sign bit:
            // both magnitudes are ≥ 0, so this restores oddness, including tanh(−0) = −0.
            var m = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(a, new Vector<float>(TanhSmall)), large, small);
            return m | (x & new Vector<float>(-0f));
        }

        /// <summary>The logistic sigmoid of each lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Sigmoid(Vector<float> x)
        {
            // e = e^{−|x|} ∈ (0, 1] with |x| clamped to SigmoidAbsMax: never overflows, never subnormal.
            var e = ExpReduced(-Vector.MinNative(Vector.Abs(x), new Vector<float>(SigmoidAbsMax)));
            // sigmoid(x) = 1/(1 + e) for x ≥ 0 (−0 included), e/(1 + e) for x < 0; both in [0, 1].
            var r = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(x, Vector<float>.Zero), Vector<float>.One, e) / (Vector<float>.One + e);
            // x < −SigmoidAbsMax (true value below 2.6e-38, −∞ included) → 0; NaN → NaN.
            r = Vector.AndNot(r, Vector.LessThan(x, new Vector<float>(-SigmoidAbsMax)).As<int, float>());
            return Vector.ConditionalSelect(Vector.Equals(x, x), r, x);
        }

        /// <summary>
        /// e^z per lane for z ∈ [−86.5, 20] (callers clamp): n = round(z·log2 e) by the 1.5·2^23 trick,
        /// r = z − n·Ln2Hi − n·Ln2Lo, E(r) by Horner, then 2^n added to the exponent field (result stays normal).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector<float> ExpReduced(Vector<float> z)
        {
            var magic = new Vector<float>(RoundMagic);
            var t = Vector.MultiplyAddEstimate(z, new Vector<float>(Log2E), magic);   // RoundMagic + n
            var n = t - magic;                                                          // n, exactly
            var r = Vector.MultiplyAddEstimate(n, new Vector<float>(-Ln2Hi), z);       // exact
            r = Vector.MultiplyAddEstimate(n, new Vector<float>(-Ln2Lo), r);
            var p = Vector.MultiplyAddEstimate(new Vector<float>(E6), r, new Vector<float>(E5));
            p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(E4));
            p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(E3));
            p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(E2));
            p = Vector.MultiplyAddEstimate(p, r, Vector<float>.One);
            p = Vector.MultiplyAddEstimate(p, r, Vector<float>.One);
            var scale = Vector.ShiftLeft(t.As<float, int>(), 23);                      // n·2^23
            return (p.As<float, int>() + scale).As<int, float>();
        }
    }
}
