using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

public static partial class Gemv
{
    // ------------------------------------------------------------------ int8 weights, one scale per row

    /// <summary>
    /// Computes <c>y[i] += s_i · Σ_j q[i,j]·x[j]</c>: <paramref name="q"/> holds a row-major
    /// <paramref name="rows"/> × <paramref name="cols"/> int8 matrix and <paramref name="scales"/> its per-row scales
    /// (<see cref="WeightQuantization.QuantizeRows"/>). Each weight is converted exactly to float32 in registers, the
    /// row's dot product is accumulated in float32, and the scale is applied once after it (the same number as
    /// <c>Σ_j (q[i,j]·s_i)·x[j]</c> up to float32 rounding).
    /// </summary>
    /// <param name="q">The int8 weights, <paramref name="rows"/> × <paramref name="cols"/>, row-major.</param>
    /// <param name="scales">The per-row scales, length <paramref name="rows"/>.</param>
    /// <param name="rows">The number of rows (≥ 0).</param>
    /// <param name="cols">The number of columns (≥ 0).</param>
    /// <param name="x">The input vector, length <paramref name="cols"/>.</param>
    /// <param name="y">The accumulator, length <paramref name="rows"/>; it must not overlap the inputs.</param>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    internal static void MultiplyAccumulateInt8(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        CheckReducedShape(q.Length, rows, cols, nameof(q));
        Guard.Length(scales, rows, nameof(scales));
        Guard.Length(x, cols, nameof(x));
        Guard.Length(y, rows, nameof(y));
        MultiplyAccumulateInt8Unchecked(q, scales, rows, cols, x, y);
    }

    /// <summary><see cref="MultiplyAccumulateInt8"/> without the checks, at the widest width that fits a row.</summary>
    internal static void MultiplyAccumulateInt8Unchecked(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        MultiplyAccumulateInt8At(VectorWidth.For(cols), q, scales, rows, cols, x, y);

    /// <summary><see cref="MultiplyAccumulateInt8"/> without the checks, at <paramref name="width"/> (whose lanes must fit a row).</summary>
    internal static void MultiplyAccumulateInt8At(Width width, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        if (rows == 0 || cols == 0) return;
        var call = new Int8Call(q, scales, rows, cols, x, y);
        VectorWidth.Run(width, ref call);
    }

    // ------------------------------------------------------------------ plumbing

    private static void CheckReducedShape(int length, int rows, int cols, string name)
    {
        Guard.NonNegative(rows, nameof(rows));
        Guard.NonNegative(cols, nameof(cols));
        if (length != (long)rows * cols)
            throw new ArgumentException($"Expected length {(long)rows * cols}, got {length}.", name);
    }

    private readonly ref struct Int8Call(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) : IWidthCall
    {
        private readonly ReadOnlySpan<sbyte> _q = q;
        private readonly ReadOnlySpan<float> _scales = scales, _x = x;
        private readonly Span<float> _y = y;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> =>
            Int8Kernel<TVector>.MultiplyAccumulate(_q, _scales, rows, cols, _x, _y);
    }

    /// <summary>
    /// The int8 GEMV over row-major weights with one scale per row, written once for every width: the structure of
    /// <see cref="Kernel{TVector}.MultiplyAccumulate"/> (eight rows per pass sharing each load of x, then four, then
    /// one; the tail as an overlapping last vector with its old lanes masked in both x and W), with each vector of
    /// weights widened to floats in registers (<see cref="IFloatVector{TSelf}.LoadInt8"/>) and each row's scale applied
    /// after its dot product. (bf16 has its own layout and kernel, <see cref="MultiplyAccumulatePairedBFloat16"/>.)
    /// Arguments are assumed valid, <c>rows ≥ 1</c> and <c>cols ≥ TVector.Count</c>.
    /// </summary>
    internal static class Int8Kernel<TVector> where TVector : struct, IFloatVector<TVector>
    {
        /// <summary>y[i] += s_i·Σ_j q[i,j]·x[j], eight rows per pass.</summary>
        public static void MultiplyAccumulate(ReadOnlySpan<sbyte> w, ReadOnlySpan<float> scales, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
        {
            ref sbyte wRef = ref MemoryMarshal.GetReference(w);
            ref float sRef = ref MemoryMarshal.GetReference(scales);
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            // The four row sums of a block before their scales are applied.
            Span<float> sums = stackalloc float[4];
            ref float sumsRef = ref MemoryMarshal.GetReference(sums);
            int count = TVector.Count;
            nuint n = (nuint)cols, step = (nuint)count, last = (nuint)(cols - count);
            bool hasTail = cols % count != 0;
            // The tail vector covers columns [cols − Count, cols); its lanes already counted by the whole vectors
            // are zeroed in both x and W (0·0 = 0, so an infinity or NaN there cannot leak in through 0·∞).
            TVector tailMask = TVector.TailMask(cols);
            TVector xTail = TVector.Load(ref xRef, last) & tailMask;

            int i = 0;
            for (; i <= rows - 8; i += 8)
            {
                ref sbyte r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                ref sbyte r1 = ref Unsafe.Add(ref r0, cols);
                ref sbyte r2 = ref Unsafe.Add(ref r1, cols);
                ref sbyte r3 = ref Unsafe.Add(ref r2, cols);
                ref sbyte r4 = ref Unsafe.Add(ref r3, cols);
                ref sbyte r5 = ref Unsafe.Add(ref r4, cols);
                ref sbyte r6 = ref Unsafe.Add(ref r5, cols);
                ref sbyte r7 = ref Unsafe.Add(ref r6, cols);
                // sK holds lane-wise partial sums of Σ_j W[i+K, j]·x[j] (W widened to float): eight rows share each
                // load of x, and their eight independent FMA chains hide the FMA latency.
                TVector s0 = default, s1 = default, s2 = default, s3 = default;
                TVector s4 = default, s5 = default, s6 = default, s7 = default;
                nuint j = 0;
                for (; j + step <= n; j += step)
                {
                    TVector xa = TVector.Load(ref xRef, j);
                    TVector.Accumulate(ref s0, TVector.LoadInt8(ref r0, j), xa);
                    TVector.Accumulate(ref s1, TVector.LoadInt8(ref r1, j), xa);
                    TVector.Accumulate(ref s2, TVector.LoadInt8(ref r2, j), xa);
                    TVector.Accumulate(ref s3, TVector.LoadInt8(ref r3, j), xa);
                    TVector.Accumulate(ref s4, TVector.LoadInt8(ref r4, j), xa);
                    TVector.Accumulate(ref s5, TVector.LoadInt8(ref r5, j), xa);
                    TVector.Accumulate(ref s6, TVector.LoadInt8(ref r6, j), xa);
                    TVector.Accumulate(ref s7, TVector.LoadInt8(ref r7, j), xa);
                }
                if (hasTail)
                {
                    // The new lanes of the overlapping last vector: columns [cols − cols % Count, cols).
                    TVector.Accumulate(ref s0, TVector.LoadInt8(ref r0, last) & tailMask, xTail);
                    TVector.Accumulate(ref s1, TVector.LoadInt8(ref r1, last) & tailMask, xTail);
                    TVector.Accumulate(ref s2, TVector.LoadInt8(ref r2, last) & tailMask, xTail);
                    TVector.Accumulate(ref s3, TVector.LoadInt8(ref r3, last) & tailMask, xTail);
                    TVector.Accumulate(ref s4, TVector.LoadInt8(ref r4, last) & tailMask, xTail);
                    TVector.Accumulate(ref s5, TVector.LoadInt8(ref r5, last) & tailMask, xTail);
                    TVector.Accumulate(ref s6, TVector.LoadInt8(ref r6, last) & tailMask, xTail);
                    TVector.Accumulate(ref s7, TVector.LoadInt8(ref r7, last) & tailMask, xTail);
                }
                // y[i + K] += s_{i+K}·Σ_lanes sK
                AddRowSums(s0, s1, s2, s3, ref Unsafe.Add(ref yRef, i), ref Unsafe.Add(ref sRef, i), ref sumsRef);
                AddRowSums(s4, s5, s6, s7, ref Unsafe.Add(ref yRef, i + 4), ref Unsafe.Add(ref sRef, i + 4), ref sumsRef);
            }

            if (i <= rows - 4)
            {
                // Four of the leftover rows (rows % 8 ≥ 4), two vectors deep for eight chains.
                ref sbyte r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                ref sbyte r1 = ref Unsafe.Add(ref r0, cols);
                ref sbyte r2 = ref Unsafe.Add(ref r1, cols);
                ref sbyte r3 = ref Unsafe.Add(ref r2, cols);
                // sK (even vectors) and tK (odd vectors) hold lane-wise partial sums of Σ_j W[i+K, j]·x[j].
                TVector s0 = default, s1 = default, s2 = default, s3 = default;
                TVector t0 = default, t1 = default, t2 = default, t3 = default;
                nuint j = 0;
                for (; j + 2 * step <= n; j += 2 * step)
                {
                    TVector xa = TVector.Load(ref xRef, j);
                    TVector xb = TVector.Load(ref xRef, j + step);
                    TVector.Accumulate(ref s0, TVector.LoadInt8(ref r0, j), xa);
                    TVector.Accumulate(ref s1, TVector.LoadInt8(ref r1, j), xa);
                    TVector.Accumulate(ref s2, TVector.LoadInt8(ref r2, j), xa);
                    TVector.Accumulate(ref s3, TVector.LoadInt8(ref r3, j), xa);
                    TVector.Accumulate(ref t0, TVector.LoadInt8(ref r0, j + step), xb);
                    TVector.Accumulate(ref t1, TVector.LoadInt8(ref r1, j + step), xb);
                    TVector.Accumulate(ref t2, TVector.LoadInt8(ref r2, j + step), xb);
                    TVector.Accumulate(ref t3, TVector.LoadInt8(ref r3, j + step), xb);
                }
                if (j + step <= n)
                {
                    // One more whole vector: columns [j, j + Count).
                    TVector xa = TVector.Load(ref xRef, j);
                    TVector.Accumulate(ref s0, TVector.LoadInt8(ref r0, j), xa);
                    TVector.Accumulate(ref s1, TVector.LoadInt8(ref r1, j), xa);
                    TVector.Accumulate(ref s2, TVector.LoadInt8(ref r2, j), xa);
                    TVector.Accumulate(ref s3, TVector.LoadInt8(ref r3, j), xa);
                }
                if (hasTail)
                {
                    TVector.Accumulate(ref t0, TVector.LoadInt8(ref r0, last) & tailMask, xTail);
                    TVector.Accumulate(ref t1, TVector.LoadInt8(ref r1, last) & tailMask, xTail);
                    TVector.Accumulate(ref t2, TVector.LoadInt8(ref r2, last) & tailMask, xTail);
                    TVector.Accumulate(ref t3, TVector.LoadInt8(ref r3, last) & tailMask, xTail);
                }
                // y[i + K] += s_{i+K}·Σ_lanes (sK + tK)
                AddRowSums(s0 + t0, s1 + t1, s2 + t2, s3 + t3, ref Unsafe.Add(ref yRef, i), ref Unsafe.Add(ref sRef, i), ref sumsRef);
                i += 4;
            }

            for (; i < rows; i++)
            {
                // The last leftover rows (rows % 4), one at a time: y[i] += s_i·Σ_j W[i,j]·x[j], two chains.
                ref sbyte r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                TVector s0 = default, t0 = default;
                nuint j = 0;
                for (; j + 2 * step <= n; j += 2 * step)
                {
                    TVector.Accumulate(ref s0, TVector.LoadInt8(ref r0, j), TVector.Load(ref xRef, j));
                    TVector.Accumulate(ref t0, TVector.LoadInt8(ref r0, j + step), TVector.Load(ref xRef, j + step));
                }
                if (j + step <= n)
                    TVector.Accumulate(ref s0, TVector.LoadInt8(ref r0, j), TVector.Load(ref xRef, j));
                if (hasTail)
                    TVector.Accumulate(ref t0, TVector.LoadInt8(ref r0, last) & tailMask, xTail);
                float sum = TVector.Sum(s0 + t0);
                ref float yi = ref Unsafe.Add(ref yRef, i);
                yi = float.MultiplyAddEstimate(Unsafe.Add(ref sRef, i), sum, yi);
            }
        }

        /// <summary><c>y[K] += s[K]·Σ_lanes aK</c> for K = 0..3: the horizontal sums go to <paramref name="sums"/> first, then each gets its scale.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddRowSums(TVector a0, TVector a1, TVector a2, TVector a3, ref float y, ref float s, ref float sums)
        {
            sums = 0f;
            Unsafe.Add(ref sums, 1) = 0f;
            Unsafe.Add(ref sums, 2) = 0f;
            Unsafe.Add(ref sums, 3) = 0f;
            TVector.AddLaneSums(a0, a1, a2, a3, ref sums);
            // y[K] = s[K]·sums[K] + y[K], fused where the hardware has FMA.
            y = float.MultiplyAddEstimate(s, sums, y);
            Unsafe.Add(ref y, 1) = float.MultiplyAddEstimate(Unsafe.Add(ref s, 1), Unsafe.Add(ref sums, 1), Unsafe.Add(ref y, 1));
            Unsafe.Add(ref y, 2) = float.MultiplyAddEstimate(Unsafe.Add(ref s, 2), Unsafe.Add(ref sums, 2), Unsafe.Add(ref y, 2));
            Unsafe.Add(ref y, 3) = float.MultiplyAddEstimate(Unsafe.Add(ref s, 3), Unsafe.Add(ref sums, 3), Unsafe.Add(ref y, 3));
        }
    }
}
