using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

public static partial class Gemv
{
    // ------------------------------------------------------------------ bf16 weights

    /// <summary>
    /// Computes <c>y += bf16(W)·x</c>: <paramref name="w"/> holds the bfloat16 bits of a row-major
    /// <paramref name="rows"/> × <paramref name="cols"/> matrix (<see cref="WeightQuantization.ToBFloat16(ReadOnlySpan{float}, Span{ushort})"/>);
    /// each weight is widened exactly to float32 in registers and all arithmetic is float32, so
    /// <c>y[i] += Σ_j W[i,j]·x[j]</c> with the bf16 values of W, up to float32 rounding of the sum.
    /// </summary>
    /// <remarks>
    /// The row-major form (PyTorch's order), one horizontal sum per row. Networks store bf16 in the paired column layout
    /// and run <see cref="MultiplyAccumulatePairedBFloat16"/> instead, which has no horizontal sums and no shuffles and
    /// measured 1.1–1.5× faster on the step shapes (docs/benchmarks.md); this one stays for row-major bf16 data and as the
    /// benchmarks' point of comparison.
    /// </remarks>
    /// <param name="w">The bfloat16 bits, <paramref name="rows"/> × <paramref name="cols"/>, row-major.</param>
    /// <param name="rows">The number of rows (≥ 0).</param>
    /// <param name="cols">The number of columns (≥ 0).</param>
    /// <param name="x">The input vector, length <paramref name="cols"/>.</param>
    /// <param name="y">The accumulator, length <paramref name="rows"/>; it must not overlap the inputs.</param>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    internal static void MultiplyAccumulateBFloat16(ReadOnlySpan<ushort> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        CheckReducedShape(w.Length, rows, cols, nameof(w));
        Guard.Length(x, cols, nameof(x));
        Guard.Length(y, rows, nameof(y));
        MultiplyAccumulateBFloat16Unchecked(w, rows, cols, x, y);
    }

    /// <summary><see cref="MultiplyAccumulateBFloat16"/> without the checks, at the widest width that fits a row.</summary>
    internal static void MultiplyAccumulateBFloat16Unchecked(ReadOnlySpan<ushort> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        MultiplyAccumulateBFloat16At(VectorWidth.For(cols), w, rows, cols, x, y);

    /// <summary><see cref="MultiplyAccumulateBFloat16"/> without the checks, at <paramref name="width"/> (whose lanes must fit a row).</summary>
    internal static void MultiplyAccumulateBFloat16At(Width width, ReadOnlySpan<ushort> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        if (rows == 0 || cols == 0) return;
        var call = new ReducedCall<BFloat16Weights, ushort>(w, default, rows, cols, x, y);
        VectorWidth.Run(width, ref call);
    }

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
        var call = new ReducedCall<Int8Weights, sbyte>(q, scales, rows, cols, x, y);
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

    private readonly ref struct ReducedCall<TFormat, TElement>(
        ReadOnlySpan<TElement> w, ReadOnlySpan<float> scales, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) : IWidthCall
        where TFormat : struct, IReducedWeights<TElement>
        where TElement : unmanaged
    {
        private readonly ReadOnlySpan<TElement> _w = w;
        private readonly ReadOnlySpan<float> _scales = scales, _x = x;
        private readonly Span<float> _y = y;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> =>
            ReducedKernel<TVector, TFormat, TElement>.MultiplyAccumulate(_w, _scales, rows, cols, _x, _y);
    }

    /// <summary>A stored weight format: how a vector of weights widens to floats, and whether rows carry a scale.</summary>
    internal interface IReducedWeights<TElement> where TElement : unmanaged
    {
        /// <summary>True when row i's dot product is multiplied by a scale s_i.</summary>
        static abstract bool HasRowScales { get; }

        /// <summary>Loads <c>TVector.Count</c> weights from <c>source + offset</c> as floats.</summary>
        static abstract TVector Load<TVector>(ref TElement source, nuint offset) where TVector : struct, IFloatVector<TVector>;

        /// <summary>True when <see cref="LoadPairs"/> is available (the kernel then multiplies by x split into even and odd columns).</summary>
        static abstract bool HasPairs { get; }

        /// <summary>
        /// Loads <c>2·TVector.Count</c> weights from <c>source + offset</c> as two vectors of floats without a shuffle:
        /// the even elements (offset + 2l) in <paramref name="even"/>, the odd ones (offset + 2l + 1) in <paramref name="odd"/>.
        /// </summary>
        static abstract void LoadPairs<TVector>(ref TElement source, nuint offset, out TVector even, out TVector odd) where TVector : struct, IFloatVector<TVector>;
    }

    /// <summary>bfloat16 bits, widened exactly (<c>bits &lt;&lt; 16</c>); no scales.</summary>
    internal readonly struct BFloat16Weights : IReducedWeights<ushort>
    {
        public static bool HasRowScales => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVector Load<TVector>(ref ushort source, nuint offset) where TVector : struct, IFloatVector<TVector> =>
            TVector.LoadBFloat16(ref source, offset);

        /// <summary>Two bfloat16 values per 32-bit lane: the low half is the even element on little-endian machines.</summary>
        public static bool HasPairs => BitConverter.IsLittleEndian;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void LoadPairs<TVector>(ref ushort source, nuint offset, out TVector even, out TVector odd) where TVector : struct, IFloatVector<TVector>
        {
            // 2·Count bfloat16 values read as Count floats: lane l holds elements 2l (low half) and 2l + 1 (high half).
            TVector pairs = TVector.Load(ref Unsafe.As<ushort, float>(ref Unsafe.Add(ref source, offset)), 0);
            even = TVector.BFloat16FromLowHalves(pairs);
            odd = TVector.BFloat16FromHighHalves(pairs);
        }
    }

    /// <summary>int8 values, converted exactly; one scale per row.</summary>
    internal readonly struct Int8Weights : IReducedWeights<sbyte>
    {
        public static bool HasRowScales => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVector Load<TVector>(ref sbyte source, nuint offset) where TVector : struct, IFloatVector<TVector> =>
            TVector.LoadInt8(ref source, offset);

        public static bool HasPairs => false;

        /// <summary>Not used (<see cref="HasPairs"/> is false).</summary>
        public static void LoadPairs<TVector>(ref sbyte source, nuint offset, out TVector even, out TVector odd) where TVector : struct, IFloatVector<TVector> =>
            throw new NotSupportedException();
    }

    /// <summary>
    /// The reduced-precision GEMV, written once for every width and both formats: the structure of
    /// <see cref="Kernel{TVector}.MultiplyAccumulate"/> (eight rows per pass sharing each load of x, then four, then
    /// one; the tail as an overlapping last vector with its old lanes masked in both x and W), with each vector of
    /// weights widened to floats in registers. bf16 weights are read 2·Count at a time as Count floats and split into
    /// their even and odd elements by a shift and a mask (no shuffle: zero-extending 16 bfloat16 values to a 512-bit
    /// vector is a shuffle, and it capped the kernel near 8 weights per cycle), against x split the same way once per
    /// call; the rest of a row (fewer than 2·Count columns) goes one vector at a time as above. Arguments are assumed
    /// valid, <c>rows ≥ 1</c> and <c>cols ≥ TVector.Count</c>.
    /// </summary>
    internal static class ReducedKernel<TVector, TFormat, TElement>
        where TVector : struct, IFloatVector<TVector>
        where TFormat : struct, IReducedWeights<TElement>
        where TElement : unmanaged
    {
        /// <summary>y[i] += s_i·Σ_j W[i,j]·x[j] (s_i = 1 without row scales), eight rows per pass.</summary>
        public static void MultiplyAccumulate(ReadOnlySpan<TElement> w, ReadOnlySpan<float> scales, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
        {
            ref TElement wRef = ref MemoryMarshal.GetReference(w);
            ref float sRef = ref MemoryMarshal.GetReference(scales);
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            // The four row sums of a block before their scales are applied (unused without row scales).
            Span<float> sums = stackalloc float[4];
            ref float sumsRef = ref MemoryMarshal.GetReference(sums);
            int count = TVector.Count;
            nuint n = (nuint)cols, step = (nuint)count, last = (nuint)(cols - count);
            bool hasTail = cols % count != 0;
            // The tail vector covers columns [cols − Count, cols); its lanes already counted by the whole vectors
            // are zeroed in both x and W (0·0 = 0, so an infinity or NaN there cannot leak in through 0·∞).
            TVector tailMask = TVector.TailMask(cols);
            TVector xTail = TVector.Load(ref xRef, last) & tailMask;

            // Formats with pairs (bf16) take the columns [0, paired) 2·Count at a time, widening the weights without a
            // shuffle into their even and odd elements; x is split the same way once per call: for each block of
            // 2·Count columns starting at c, xPairs[c + l] = x[c + 2l] and xPairs[c + Count + l] = x[c + 2l + 1].
            nuint paired = TFormat.HasPairs && cols <= MaxPairedColumns ? n - n % (2 * step) : 0;
            Span<float> xPairs = paired > 0 ? stackalloc float[(int)paired] : default;
            ref float pRef = ref MemoryMarshal.GetReference(xPairs);
            for (nuint c = 0; c < paired; c += 2 * step)
            {
                for (nuint l = 0; l < step; l++)
                {
                    Unsafe.Add(ref pRef, c + l) = Unsafe.Add(ref xRef, c + 2 * l);
                    Unsafe.Add(ref pRef, c + step + l) = Unsafe.Add(ref xRef, c + 2 * l + 1);
                }
            }

            int i = 0;
            for (; i <= rows - 8; i += 8)
            {
                ref TElement r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                ref TElement r1 = ref Unsafe.Add(ref r0, cols);
                ref TElement r2 = ref Unsafe.Add(ref r1, cols);
                ref TElement r3 = ref Unsafe.Add(ref r2, cols);
                ref TElement r4 = ref Unsafe.Add(ref r3, cols);
                ref TElement r5 = ref Unsafe.Add(ref r4, cols);
                ref TElement r6 = ref Unsafe.Add(ref r5, cols);
                ref TElement r7 = ref Unsafe.Add(ref r6, cols);
                // sK holds lane-wise partial sums of Σ_j W[i+K, j]·x[j] (W widened to float): eight rows share each
                // load of x, and their eight independent FMA chains hide the FMA latency.
                TVector s0 = default, s1 = default, s2 = default, s3 = default;
                TVector s4 = default, s5 = default, s6 = default, s7 = default;
                nuint j = 0;
                for (; j < paired; j += 2 * step)
                {
                    // Columns [j, j + 2·Count): the even ones against xe, the odd ones against xo.
                    TVector xe = TVector.Load(ref pRef, j);
                    TVector xo = TVector.Load(ref pRef, j + step);
                    PairDot(ref s0, ref r0, j, xe, xo);
                    PairDot(ref s1, ref r1, j, xe, xo);
                    PairDot(ref s2, ref r2, j, xe, xo);
                    PairDot(ref s3, ref r3, j, xe, xo);
                    PairDot(ref s4, ref r4, j, xe, xo);
                    PairDot(ref s5, ref r5, j, xe, xo);
                    PairDot(ref s6, ref r6, j, xe, xo);
                    PairDot(ref s7, ref r7, j, xe, xo);
                }
                for (; j + step <= n; j += step)
                {
                    TVector xa = TVector.Load(ref xRef, j);
                    TVector.Accumulate(ref s0, TFormat.Load<TVector>(ref r0, j), xa);
                    TVector.Accumulate(ref s1, TFormat.Load<TVector>(ref r1, j), xa);
                    TVector.Accumulate(ref s2, TFormat.Load<TVector>(ref r2, j), xa);
                    TVector.Accumulate(ref s3, TFormat.Load<TVector>(ref r3, j), xa);
                    TVector.Accumulate(ref s4, TFormat.Load<TVector>(ref r4, j), xa);
                    TVector.Accumulate(ref s5, TFormat.Load<TVector>(ref r5, j), xa);
                    TVector.Accumulate(ref s6, TFormat.Load<TVector>(ref r6, j), xa);
                    TVector.Accumulate(ref s7, TFormat.Load<TVector>(ref r7, j), xa);
                }
                if (hasTail)
                {
                    // The new lanes of the overlapping last vector: columns [cols − cols % Count, cols).
                    TVector.Accumulate(ref s0, TFormat.Load<TVector>(ref r0, last) & tailMask, xTail);
                    TVector.Accumulate(ref s1, TFormat.Load<TVector>(ref r1, last) & tailMask, xTail);
                    TVector.Accumulate(ref s2, TFormat.Load<TVector>(ref r2, last) & tailMask, xTail);
                    TVector.Accumulate(ref s3, TFormat.Load<TVector>(ref r3, last) & tailMask, xTail);
                    TVector.Accumulate(ref s4, TFormat.Load<TVector>(ref r4, last) & tailMask, xTail);
                    TVector.Accumulate(ref s5, TFormat.Load<TVector>(ref r5, last) & tailMask, xTail);
                    TVector.Accumulate(ref s6, TFormat.Load<TVector>(ref r6, last) & tailMask, xTail);
                    TVector.Accumulate(ref s7, TFormat.Load<TVector>(ref r7, last) & tailMask, xTail);
                }
                // y[i + K] += s_{i+K}·Σ_lanes sK
                AddRowSums(s0, s1, s2, s3, ref Unsafe.Add(ref yRef, i), ref Unsafe.Add(ref sRef, i), ref sumsRef);
                AddRowSums(s4, s5, s6, s7, ref Unsafe.Add(ref yRef, i + 4), ref Unsafe.Add(ref sRef, i + 4), ref sumsRef);
            }

            if (i <= rows - 4)
            {
                // Four of the leftover rows (rows % 8 ≥ 4), two vectors deep for eight chains.
                ref TElement r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                ref TElement r1 = ref Unsafe.Add(ref r0, cols);
                ref TElement r2 = ref Unsafe.Add(ref r1, cols);
                ref TElement r3 = ref Unsafe.Add(ref r2, cols);
                // sK (even vectors) and tK (odd vectors) hold lane-wise partial sums of Σ_j W[i+K, j]·x[j].
                TVector s0 = default, s1 = default, s2 = default, s3 = default;
                TVector t0 = default, t1 = default, t2 = default, t3 = default;
                nuint j = 0;
                for (; j < paired; j += 2 * step)
                {
                    // Columns [j, j + 2·Count): the even ones into sK, the odd ones into tK.
                    TVector xe = TVector.Load(ref pRef, j);
                    TVector xo = TVector.Load(ref pRef, j + step);
                    TFormat.LoadPairs(ref r0, j, out TVector e0, out TVector o0);
                    TFormat.LoadPairs(ref r1, j, out TVector e1, out TVector o1);
                    TFormat.LoadPairs(ref r2, j, out TVector e2, out TVector o2);
                    TFormat.LoadPairs(ref r3, j, out TVector e3, out TVector o3);
                    TVector.Accumulate(ref s0, e0, xe);
                    TVector.Accumulate(ref s1, e1, xe);
                    TVector.Accumulate(ref s2, e2, xe);
                    TVector.Accumulate(ref s3, e3, xe);
                    TVector.Accumulate(ref t0, o0, xo);
                    TVector.Accumulate(ref t1, o1, xo);
                    TVector.Accumulate(ref t2, o2, xo);
                    TVector.Accumulate(ref t3, o3, xo);
                }
                for (; j + 2 * step <= n; j += 2 * step)
                {
                    TVector xa = TVector.Load(ref xRef, j);
                    TVector xb = TVector.Load(ref xRef, j + step);
                    TVector.Accumulate(ref s0, TFormat.Load<TVector>(ref r0, j), xa);
                    TVector.Accumulate(ref s1, TFormat.Load<TVector>(ref r1, j), xa);
                    TVector.Accumulate(ref s2, TFormat.Load<TVector>(ref r2, j), xa);
                    TVector.Accumulate(ref s3, TFormat.Load<TVector>(ref r3, j), xa);
                    TVector.Accumulate(ref t0, TFormat.Load<TVector>(ref r0, j + step), xb);
                    TVector.Accumulate(ref t1, TFormat.Load<TVector>(ref r1, j + step), xb);
                    TVector.Accumulate(ref t2, TFormat.Load<TVector>(ref r2, j + step), xb);
                    TVector.Accumulate(ref t3, TFormat.Load<TVector>(ref r3, j + step), xb);
                }
                if (j + step <= n)
                {
                    // One more whole vector: columns [j, j + Count).
                    TVector xa = TVector.Load(ref xRef, j);
                    TVector.Accumulate(ref s0, TFormat.Load<TVector>(ref r0, j), xa);
                    TVector.Accumulate(ref s1, TFormat.Load<TVector>(ref r1, j), xa);
                    TVector.Accumulate(ref s2, TFormat.Load<TVector>(ref r2, j), xa);
                    TVector.Accumulate(ref s3, TFormat.Load<TVector>(ref r3, j), xa);
                }
                if (hasTail)
                {
                    TVector.Accumulate(ref t0, TFormat.Load<TVector>(ref r0, last) & tailMask, xTail);
                    TVector.Accumulate(ref t1, TFormat.Load<TVector>(ref r1, last) & tailMask, xTail);
                    TVector.Accumulate(ref t2, TFormat.Load<TVector>(ref r2, last) & tailMask, xTail);
                    TVector.Accumulate(ref t3, TFormat.Load<TVector>(ref r3, last) & tailMask, xTail);
                }
                // y[i + K] += s_{i+K}·Σ_lanes (sK + tK)
                AddRowSums(s0 + t0, s1 + t1, s2 + t2, s3 + t3, ref Unsafe.Add(ref yRef, i), ref Unsafe.Add(ref sRef, i), ref sumsRef);
                i += 4;
            }

            for (; i < rows; i++)
            {
                // The last leftover rows (rows % 4), one at a time: y[i] += s_i·Σ_j W[i,j]·x[j], two chains.
                ref TElement r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                TVector s0 = default, t0 = default;
                nuint j = 0;
                for (; j < paired; j += 2 * step)
                {
                    TFormat.LoadPairs(ref r0, j, out TVector e0, out TVector o0);
                    TVector.Accumulate(ref s0, e0, TVector.Load(ref pRef, j));
                    TVector.Accumulate(ref t0, o0, TVector.Load(ref pRef, j + step));
                }
                for (; j + 2 * step <= n; j += 2 * step)
                {
                    TVector.Accumulate(ref s0, TFormat.Load<TVector>(ref r0, j), TVector.Load(ref xRef, j));
                    TVector.Accumulate(ref t0, TFormat.Load<TVector>(ref r0, j + step), TVector.Load(ref xRef, j + step));
                }
                if (j + step <= n)
                    TVector.Accumulate(ref s0, TFormat.Load<TVector>(ref r0, j), TVector.Load(ref xRef, j));
                if (hasTail)
                    TVector.Accumulate(ref t0, TFormat.Load<TVector>(ref r0, last) & tailMask, xTail);
                float sum = TVector.Sum(s0 + t0);
                ref float yi = ref Unsafe.Add(ref yRef, i);
                yi = TFormat.HasRowScales ? float.MultiplyAddEstimate(Unsafe.Add(ref sRef, i), sum, yi) : yi + sum;
            }
        }

        /// <summary>The widest row whose x is split into even and odd columns on the stack (32 KB); wider rows take the one-vector path.</summary>
        private const int MaxPairedColumns = 8192;

        /// <summary><c>acc + W[j + 2l]·xe[l] + W[j + 2l + 1]·xo[l]</c> per lane l: one pair-load of 2·Count weights.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void PairDot(ref TVector acc, ref TElement row, nuint j, TVector xe, TVector xo)
        {
            TFormat.LoadPairs(ref row, j, out TVector even, out TVector odd);
            TVector.Accumulate(ref acc, even, xe);
            TVector.Accumulate(ref acc, odd, xo);
        }

        /// <summary>
        /// <c>y[K] += s[K]·Σ_lanes aK</c> for K = 0..3 (<c>y[K] += Σ_lanes aK</c> without row scales): the horizontal
        /// sums go to <paramref name="sums"/> first when a scale must be applied after them.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddRowSums(TVector a0, TVector a1, TVector a2, TVector a3, ref float y, ref float s, ref float sums)
        {
            if (!TFormat.HasRowScales)
            {
                TVector.AddLaneSums(a0, a1, a2, a3, ref y);
                return;
            }
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
