using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static SimdRnn.Kernels.Activations.Coefficients;

namespace SimdRnn.Kernels;

public static partial class Activations
{
    /// <summary>
    /// The activation kernels over <see cref="Vector512{T}"/> (16 lanes), taken only where the hardware accelerates
    /// 512-bit vectors (AVX-512). The same approximation, constants and operation order as <see cref="Simd"/> and
    /// <see cref="Scalar"/>, lane for lane. <c>Vector&lt;float&gt;</c> stays 8 lanes on AVX-512 machines (the
    /// runtime's default), so this twin is what lets the element-wise passes use the full width: on the AMD EPYC
    /// (Zen 4) of docs/benchmarks.md it runs tanh about 1.45× faster than the 8-lane kernel. Arguments are assumed
    /// valid and length ≥ 16.
    /// </summary>
    internal static class Simd512
    {
        /// <summary>True where 512-bit vectors are hardware-accelerated (false under Native AOT for x86-64-v3).</summary>
        public static bool IsAccelerated => Vector512.IsHardwareAccelerated;

        public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Map<TanhOperator>(x, y);

        public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => Map<SigmoidOperator>(x, y);

        /// <summary>y[i] = TOp(x[i]) over whole 512-bit vectors, as <c>Simd.Map</c> does at <c>Vector&lt;T&gt;</c> width; y may be x.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y) where TOp : IOperator
        {
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            int last = x.Length - Vector512<float>.Count;
            var tail = TOp.Invoke(Vector512.LoadUnsafe(ref xRef, (nuint)last));
            var next = Vector512.LoadUnsafe(ref xRef);
            for (int i = 0; i < last; i += Vector512<float>.Count)
            {
                var v = next;
                next = Vector512.LoadUnsafe(ref xRef, (nuint)Math.Min(i + Vector512<float>.Count, last));
                TOp.Invoke(v).StoreUnsafe(ref yRef, (nuint)i);
            }
            tail.StoreUnsafe(ref yRef, (nuint)last);
        }

        /// <summary>tanh of each lane: |tanh x| = m/(m + 2), m = e^{min(2|x|, TanhZMax)} − 1, with x's sign OR-ed in.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Tanh(Vector512<float> x)
        {
            var a = Vector512.Abs(x);
            var q = ExpReduced(Vector512.MinNative(Vector512.Create(TanhZMax), a + a), out var scale);
            var m = Vector512.MultiplyAddEstimate(scale, q, scale - Vector512<float>.One);
            var t = m / (m + Vector512.Create(2f));
            return t | (x & Vector512.Create(-0f));
        }

        /// <summary>σ(x) = 1/(1 + e) for x ≥ 0, e/(1 + e) for x &lt; 0, e = e^{−min(|x|, SigmoidAbsMax)}; 0 below −SigmoidAbsMax.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Sigmoid(Vector512<float> x)
        {
            var q = ExpReduced(Vector512.MaxNative(Vector512.Create(-SigmoidAbsMax), x | Vector512.Create(-0f)), out var scale);
            var e = Vector512.MultiplyAddEstimate(scale, q, scale);
            var r = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.One, e) / (Vector512<float>.One + e);
            return Vector512.AndNot(r, Vector512.LessThan(x, Vector512.Create(-SigmoidAbsMax)));
        }

        /// <summary>e^z = 2^n·(1 + q): n = round(z·log2 e), r = z − n·ln 2 (two parts), q = r + r²·Q(r), scale = 2^n.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> ExpReduced(Vector512<float> z, out Vector512<float> scale)
        {
            var magic = Vector512.Create(RoundMagic);
            var t = Vector512.MultiplyAddEstimate(z, Vector512.Create(Log2E), magic);
            var n = t - magic;
            var r = Vector512.MultiplyAddEstimate(n, Vector512.Create(-Ln2Hi), z);
            r = Vector512.MultiplyAddEstimate(n, Vector512.Create(-Ln2Lo), r);
            var p = Vector512.MultiplyAddEstimate(Vector512.Create(E5), r, Vector512.Create(E4));
            p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(E3));
            p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(E2));
            scale = (Vector512.ShiftLeft(t.AsInt32(), 23) + Vector512.Create(0x3F800000)).AsSingle();
            return Vector512.MultiplyAddEstimate(r * r, p, r);
        }
    }
}
