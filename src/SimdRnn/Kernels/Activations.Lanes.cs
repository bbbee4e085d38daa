using System.Runtime.CompilerServices;
using SimdRnn.Kernels.Vectors;
using static SimdRnn.Kernels.Activations.Coefficients;

namespace SimdRnn.Kernels;

public static partial class Activations
{
    /// <summary>
    /// tanh and the logistic sigmoid of each lane, written once for every width (the scalar twin is
    /// <c>Lanes&lt;ScalarFloat&gt;</c>): the same approximation, constants and operation order on every path, so
    /// every width computes the same bits lane for lane. Branch-free.
    /// </summary>
    internal static class Lanes<TVector> where TVector : struct, IFloatVector<TVector>
    {
        /// <summary>tanh of each lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVector Tanh(TVector x)
        {
            var a = TVector.Abs(x);
            // |tanh x| = m/(m + 2), m = e^{2a} − 1, 2a clamped to TanhZMax (the quotient rounds to 1 from there on).
            // NaN: MinNative(c, v) returns v when v is NaN (x86 min returns its second operand when unordered;
            // Arm64 fmin and the scalar width propagate NaN), and a NaN z yields a NaN q, m and quotient.
            var q = ExpReduced(TVector.MinNative(TVector.Create(TanhZMax), a + a), out var scale);
            var m = TVector.MultiplyAdd(scale, q, scale - TVector.One);   // e^{2a} − 1 = 2^n·q + (2^n − 1)
            var t = m / (m + TVector.Create(2f));
            // t ≥ 0 (or NaN); OR-ing in x's sign bit gives tanh's oddness, including tanh(−0) = −0.
            return t | (x & TVector.Create(-0f));
        }

        /// <summary>The logistic sigmoid of each lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVector Sigmoid(TVector x)
        {
            // e = e^{−a} ∈ (0, 1], a = min(|x|, SigmoidAbsMax): never overflows (NaN flows through as in Tanh).
            // −a = max(−SigmoidAbsMax, −|x|), and −|x| is x with its sign bit set.
            var q = ExpReduced(TVector.MaxNative(TVector.Create(-SigmoidAbsMax), x | TVector.Create(-0f)), out var scale);
            var e = TVector.MultiplyAdd(scale, q, scale);                 // e^{−a} = 2^n·q + 2^n
            // sigmoid(x) = 1/(1 + e) for x ≥ 0 (−0 included), e/(1 + e) for x < 0; both in [0, 1].
            var r = TVector.ConditionalSelect(TVector.GreaterThanOrEqual(x, TVector.Zero), TVector.One, e) / (TVector.One + e);
            // x < −SigmoidAbsMax (true value below 2.6e-38, −∞ included) → 0; false for NaN, which stays NaN.
            return TVector.AndNot(r, TVector.LessThan(x, TVector.Create(-SigmoidAbsMax)));
        }

        /// <summary>
        /// The reduction of e^z per lane for z ∈ [−86.5, 20] (callers clamp): n = round(z·log2 e) by the 1.5·2^23 trick,
        /// r = z − n·Ln2Hi − n·Ln2Lo, returns q = r + r²·Q(r) ≈ e^r − 1 and <paramref name="scale"/> = 2^n from its
        /// exponent bits, so e^z = 2^n·(1 + q).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVector ExpReduced(TVector z, out TVector scale)
        {
            var magic = TVector.Create(RoundMagic);
            var t = TVector.MultiplyAdd(z, TVector.Create(Log2E), magic);   // RoundMagic + n
            var n = t - magic;                                               // n, exactly
            var r = TVector.MultiplyAdd(n, TVector.Create(-Ln2Hi), z);      // exact: n·Ln2Hi has ≤ 17 significant bits
            r = TVector.MultiplyAdd(n, TVector.Create(-Ln2Lo), r);
            var p = TVector.MultiplyAdd(TVector.Create(E5), r, TVector.Create(E4)); // Q(r) = E2 + r(E3 + r(E4 + r·E5))
            p = TVector.MultiplyAdd(p, r, TVector.Create(E3));
            p = TVector.MultiplyAdd(p, r, TVector.Create(E2));
            scale = TVector.PowerOfTwoFromRounded(t);                        // 2^n from the bits of t
            return TVector.MultiplyAdd(r * r, p, r);                         // q = r + r²·Q(r)
        }
    }

    /// <summary>A lane-wise function, written once for every width (the operator-struct style of System.Numerics.Tensors).</summary>
    internal interface ILaneOperator
    {
        static abstract TVector Invoke<TVector>(TVector x) where TVector : struct, IFloatVector<TVector>;
    }

    internal readonly struct TanhOperator : ILaneOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVector Invoke<TVector>(TVector x) where TVector : struct, IFloatVector<TVector> => Lanes<TVector>.Tanh(x);
    }

    internal readonly struct SigmoidOperator : ILaneOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVector Invoke<TVector>(TVector x) where TVector : struct, IFloatVector<TVector> => Lanes<TVector>.Sigmoid(x);
    }

    /// <summary>The span driver of every lane-wise operator at one width.</summary>
    internal static class Map<TOperator, TVector> where TOperator : ILaneOperator where TVector : struct, IFloatVector<TVector>
    {
        /// <summary>
        /// y[i] = TOperator(x[i]) for length ≥ TVector.Count; <paramref name="y"/> may be <paramref name="x"/> (the same
        /// span exactly).
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)] // keeps the hot loop out of the caller: inlined after the guards it ran 2-4x slower (measured)
        public static void Run(ReadOnlySpan<float> x, Span<float> y)
        {
            ref float xRef = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref float yRef = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            int count = TVector.Count;
            // The last, overlapping vector is computed from the input before anything is stored, so y may be x.
            int last = x.Length - count;
            var tail = TOperator.Invoke(TVector.Load(ref xRef, (nuint)last));
            // Each input vector is loaded before the previous result is stored: when y sits 4 KiB plus a few
            // floats after x, a load issued after the store looks dependent on it (4K aliasing) and waits.
            var next = TVector.Load(ref xRef, 0);
            for (int i = 0; i < last; i += count)
            {
                var v = next;
                next = TVector.Load(ref xRef, (nuint)Math.Min(i + count, last));
                TVector.Store(TOperator.Invoke(v), ref yRef, (nuint)i);
            }
            TVector.Store(tail, ref yRef, (nuint)last);
        }
    }
}
