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
    /// Each lane computes what <see cref="Scalar"/> computes, branch-free.
    /// </summary>
    internal static class Simd
    {
        public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Map<TanhOperator>(x, y);

        public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => Map<SigmoidOperator>(x, y);

        /// <summary>y[i] = TOp(x[i]) over whole vectors; y may be x.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)] // keeps the hot loop out of the caller: inlined after the guards it ran 2-4x slower (measured)
        private static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y) where TOp : IOperator
        {
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            int n = x.Length, count = Vector<float>.Count;
            // The last, overlapping vector is computed from the input before anything is stored, so y may be x.
            int last = n - count;
            var tail = TOp.Invoke(Vector.LoadUnsafe(ref xRef, (nuint)last));
            // Each input vector is loaded before the previous result is stored: when y sits 4 KiB plus a few
            // floats after x, a load issued after the store looks dependent on it (4K aliasing) and waits.
            var next = Vector.LoadUnsafe(ref xRef);
            for (int i = 0; i < last; i += count)
            {
                var v = next;
                next = Vector.LoadUnsafe(ref xRef, (nuint)Math.Min(i + count, last));
                TOp.Invoke(v).StoreUnsafe(ref yRef, (nuint)i);
            }
            tail.StoreUnsafe(ref yRef, (nuint)last);
        }

        /// <summary>tanh of each lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Tanh(Vector<float> x)
        {
            var a = Vector.Abs(x);
            // |tanh x| = m/(m + 2), m = e^{2a} − 1, 2a clamped to TanhZMax (the quotient rounds to 1 from there on).
            // NaN: MinNative(c, v) returns v when v is NaN (x86 min returns its second operand when unordered;
            // Arm64 fmin and the software fallback propagate NaN), and a NaN z yields a NaN q, m and quotient.
            var q = ExpReduced(Vector.MinNative(new Vector<float>(TanhZMax), a + a), out var scale);
            var m = Vector.MultiplyAddEstimate(scale, q, scale - Vector<float>.One);   // e^{2a} − 1 = 2^n·q + (2^n − 1)
            var t = m / (m + new Vector<float>(2f));
            // t ≥ 0 (or NaN); OR-ing in x's sign bit gives tanh's oddness, including tanh(−0) = −0.
            return t | (x & new Vector<float>(-0f));
        }

        /// <summary>The logistic sigmoid of each lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Sigmoid(Vector<float> x)
        {
            // e = e^{−a} ∈ (0, 1], a = min(|x|, SigmoidAbsMax): never overflows (NaN flows through as in Tanh).
            // −a = max(−SigmoidAbsMax, −|x|), and −|x| is x with its sign bit set.
            var q = ExpReduced(Vector.MaxNative(new Vector<float>(-SigmoidAbsMax), x | new Vector<float>(-0f)), out var scale);
            var e = Vector.MultiplyAddEstimate(scale, q, scale);                         // e^{−a} = 2^n·q + 2^n
            // sigmoid(x) = 1/(1 + e) for x ≥ 0 (−0 included), e/(1 + e) for x < 0; both in [0, 1].
            var r = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(x, Vector<float>.Zero), Vector<float>.One, e) / (Vector<float>.One + e);
            // x < −SigmoidAbsMax (true value below 2.6e-38, −∞ included) → 0; false for NaN, which stays NaN.
            return Vector.AndNot(r, Vector.LessThan(x, new Vector<float>(-SigmoidAbsMax)).As<int, float>());
        }

        /// <summary>
        /// The reduction of e^z per lane for z ∈ [−86.5, 20] (callers clamp): n = round(z·log2 e) by the 1.5·2^23 trick,
        /// r = z − n·Ln2Hi − n·Ln2Lo, returns q = r + r²·Q(r) ≈ e^r − 1 and <paramref name="scale"/> = 2^n from its
        /// exponent bits, so e^z = 2^n·(1 + q).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector<float> ExpReduced(Vector<float> z, out Vector<float> scale)
        {
            var magic = new Vector<float>(RoundMagic);
            var t = Vector.MultiplyAddEstimate(z, new Vector<float>(Log2E), magic);   // RoundMagic + n
            var n = t - magic;                                                          // n, exactly
            var r = Vector.MultiplyAddEstimate(n, new Vector<float>(-Ln2Hi), z);       // exact
            r = Vector.MultiplyAddEstimate(n, new Vector<float>(-Ln2Lo), r);
            var p = Vector.MultiplyAddEstimate(new Vector<float>(E5), r, new Vector<float>(E4)); // Q(r), Horner
            p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(E3));
            p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(E2));
            // 2^n from its bits: (bits(t) << 23) = n·2^23, plus the bits of 1f.
            scale = (Vector.ShiftLeft(t.As<float, int>(), 23) + new Vector<int>(0x3F800000)).As<int, float>();
            return Vector.MultiplyAddEstimate(r * r, p, r);                             // q = r + r²·Q(r)
        }
    }
}
