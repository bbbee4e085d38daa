using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

public static partial class Gemv
{
    // ------------------------------------------------------------------ bf16 weights in the paired column layout

    /// <summary>
    /// The rows of one panel of the paired column layout for kernels of <paramref name="width"/>: eight vectors, so that
    /// the kernel's eight accumulators cover a panel's rows and read it front to back (128 rows at 512 bits). A matrix
    /// is packed once for the widest width the process runs (<see cref="VectorWidth.Maximum"/>); a narrower width gives
    /// the same bits on it, only slower.
    /// </summary>
    internal static int PairedPanelRows(Width width) => 8 * VectorWidth.Lanes(width);

    /// <summary>
    /// The length in ushorts of a bf16 matrix W [rows × cols] in the <b>paired column layout</b>. The rows go in panels of
    /// <c>panelRows</c> (the last one takes what is left), one after another. Within a panel of R rows, each pair of
    /// columns (2p, 2p + 1) is R consecutive 32-bit words, word (p, i) holding W[i, 2p] in its low half and W[i, 2p + 1]
    /// in its high half (zero past an odd last column). A vector load of words (p, i .. i + Count) gives Count rows' two
    /// weights of that pair, widened to floats by one shift (low halves) and one mask (high halves): no shuffle and no
    /// horizontal sum, since lane l accumulates row i + l; and a panel is read front to back.
    /// </summary>
    internal static int PairedLength(int rows, int cols) => 2 * ((cols + 1) / 2) * rows;

    /// <summary>The ushort index of W[<paramref name="row"/>, <paramref name="col"/>] in the paired column layout (<see cref="PairedLength"/>).</summary>
    internal static int PairedIndex(int rows, int cols, int panelRows, int row, int col)
    {
        int panelStart = row - row % panelRows, rowsHere = Math.Min(panelRows, rows - panelStart);
        return PairedLength(panelStart, cols) + 2 * ((col >> 1) * rowsHere + row - panelStart) + (col & 1);
    }

    /// <summary>
    /// Computes <c>y[i] += Σ_j W[first + i, j]·x[j]</c> for i in [0, count): rows [first, first + count) of a bf16 matrix
    /// W [rows × cols] stored in the paired column layout with panels of <paramref name="panelRows"/> (<see cref="PairedLength"/>),
    /// at the widest width that fits <paramref name="count"/>. Each row's sum runs in column order, one fused multiply-add per weight into the row's own
    /// lane, then adds into y: so its bits are the same at every width.
    /// </summary>
    internal static void MultiplyAccumulatePairedBFloat16(ReadOnlySpan<ushort> w, int rows, int cols, int panelRows, int first, int count, ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.NonNegative(rows, nameof(rows));
        Guard.NonNegative(cols, nameof(cols));
        Guard.SameLength(w.Length, PairedLength(rows, cols), nameof(w));
        if (first < 0 || count < 0 || first > rows - count)
            throw new ArgumentOutOfRangeException(nameof(count), $"Rows [{first}, {first} + {count}) are not inside [0, {rows}).");
        if (panelRows < 1) throw new ArgumentOutOfRangeException(nameof(panelRows), panelRows, "A panel has at least one row.");
        Guard.Length(x, cols, nameof(x));
        Guard.Length(y, count, nameof(y));
        MultiplyAccumulatePairedBFloat16Unchecked(w, rows, cols, panelRows, first, count, x, y);
    }

    /// <summary><see cref="MultiplyAccumulatePairedBFloat16"/> without the checks.</summary>
    internal static void MultiplyAccumulatePairedBFloat16Unchecked(ReadOnlySpan<ushort> w, int rows, int cols, int panelRows, int first, int count, ReadOnlySpan<float> x, Span<float> y) =>
        MultiplyAccumulatePairedBFloat16At(VectorWidth.For(count), w, rows, cols, panelRows, first, count, x, y);

    /// <summary><see cref="MultiplyAccumulatePairedBFloat16"/> without the checks, at <paramref name="width"/> (whose lanes must fit <paramref name="count"/>).</summary>
    internal static void MultiplyAccumulatePairedBFloat16At(Width width, ReadOnlySpan<ushort> w, int rows, int cols, int panelRows, int first, int count, ReadOnlySpan<float> x, Span<float> y)
    {
        if (count == 0 || cols == 0) return; // nothing to add
        var call = new PairedCall(w, rows, cols, panelRows, first, count, x, y);
        VectorWidth.Run(width, ref call);
    }

    private readonly ref struct PairedCall(ReadOnlySpan<ushort> w, int rows, int cols, int panelRows, int first, int count, ReadOnlySpan<float> x, Span<float> y) : IWidthCall
    {
        private readonly ReadOnlySpan<ushort> _w = w;
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> =>
            PairedKernel<TVector>.MultiplyAccumulate(_w, rows, cols, panelRows, first, count, _x, _y);
    }

    /// <summary>
    /// The paired-layout bf16 GEMV, written once for every width; <c>count ≥ TVector.Count</c>. Lane l of an accumulator
    /// holds Σ_j W[i + l, j]·x[j] for one row, summed in column order (low half, then high half of each pair); rows go
    /// eight vectors at a time (eight independent chains, each load of a word feeding two FMAs), then one vector at a
    /// time, and a last overlapping vector adds only its new lanes.
    /// </summary>
    /// <remarks>
    /// The two loop methods are compiled straight to optimized code and never inlined
    /// (<see cref="MethodImplOptions.AggressiveOptimization"/>, <see cref="MethodImplOptions.NoInlining"/>): inlined
    /// into the width dispatch and recompiled with dynamic PGO they ran 1.5–4× slower in a probe (the same loop body,
    /// 384×64 and 384×192 on a Zen 4, 2026-11-30), depending on which shapes the profile had seen.
    /// </remarks>
    internal static class PairedKernel<TVector> where TVector : struct, IFloatVector<TVector>
    {
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public static void MultiplyAccumulate(ReadOnlySpan<ushort> w, int rows, int cols, int panelRows, int first, int count, ReadOnlySpan<float> x, Span<float> y)
        {
            ref ushort wRef = ref MemoryMarshal.GetReference(w);
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            int end = first + count;
            // The part of rows [first, end) in each panel, [a, b): a piece of at least Count rows runs at this width, a
            // shorter one at one lane (the same operations per row, so the same bits).
            for (int panelStart = first - first % panelRows; panelStart < end; panelStart += panelRows)
            {
                int rowsHere = Math.Min(panelRows, rows - panelStart);
                int a = Math.Max(first, panelStart), b = Math.Min(end, panelStart + rowsHere);
                // The words as floats (the shift and mask reinterpret their bits): word (p, i) of the panel at [p·rowsHere + i].
                ref float words = ref Unsafe.As<ushort, float>(ref Unsafe.Add(ref wRef, PairedLength(panelStart, cols) + 2 * (a - panelStart)));
                ref float yPiece = ref Unsafe.Add(ref yRef, a - first);
                if (b - a >= TVector.Count)
                    Piece(ref words, (nuint)rowsHere, b - a, cols, ref xRef, ref yPiece);
                else
                    PairedKernel<ScalarFloat>.Piece(ref words, (nuint)rowsHere, b - a, cols, ref xRef, ref yPiece);
            }
        }

        /// <summary>y[0 .. count) += the sums of <paramref name="count"/> ≥ Count rows of one panel whose words start at <paramref name="words"/>, <paramref name="stride"/> words per pair.</summary>
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static void Piece(ref float words, nuint stride, int count, int cols, ref float xRef, ref float yRef)
        {
            int c = TVector.Count;
            int i = 0;
            for (; i <= count - 8 * c; i += 8 * c)
                EightVectors(ref Unsafe.Add(ref words, i), stride, cols, ref xRef, ref Unsafe.Add(ref yRef, i));
            for (; i <= count - c; i += c)
            {
                // y[i .. i + Count) += the rows' sums
                TVector s = OneVector(ref Unsafe.Add(ref words, i), stride, cols, ref xRef);
                TVector.Store(TVector.Load(ref yRef, (nuint)i) + s, ref yRef, (nuint)i);
            }
            if (i < count)
            {
                // The overlapping last vector, rows [count − Count, count): only its new lanes take the sum.
                nuint last = (nuint)(count - c);
                TVector s = OneVector(ref Unsafe.Add(ref words, (nint)last), stride, cols, ref xRef);
                TVector old = TVector.Load(ref yRef, last);
                TVector.Store(TVector.ConditionalSelect(TVector.TailMask(count), old + s, old), ref yRef, last);
            }
        }

        /// <summary>y[0 .. 8·Count) += Σ_j W[row, j]·x[j] for the 8·Count rows whose words start at <paramref name="words"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void EightVectors(ref float words, nuint stride, int cols, ref float xRef, ref float yRef)
        {
            nuint c = (nuint)TVector.Count;
            TVector s0 = default, s1 = default, s2 = default, s3 = default;
            TVector s4 = default, s5 = default, s6 = default, s7 = default;
            ref float row = ref words;
            int j = 0;
            for (; j + 2 <= cols; j += 2)
            {
                // sK += W[·, j]·x[j], then += W[·, j + 1]·x[j + 1]: the pair's low and high halves.
                TVector xe = TVector.Create(Unsafe.Add(ref xRef, j)), xo = TVector.Create(Unsafe.Add(ref xRef, j + 1));
                Pair(ref s0, TVector.Load(ref row, 0), xe, xo);
                Pair(ref s1, TVector.Load(ref row, c), xe, xo);
                Pair(ref s2, TVector.Load(ref row, 2 * c), xe, xo);
                Pair(ref s3, TVector.Load(ref row, 3 * c), xe, xo);
                Pair(ref s4, TVector.Load(ref row, 4 * c), xe, xo);
                Pair(ref s5, TVector.Load(ref row, 5 * c), xe, xo);
                Pair(ref s6, TVector.Load(ref row, 6 * c), xe, xo);
                Pair(ref s7, TVector.Load(ref row, 7 * c), xe, xo);
                row = ref Unsafe.Add(ref row, stride);
            }
            if (j < cols)
            {
                // An odd last column: the low halves only (the high halves are zero padding).
                TVector xe = TVector.Create(Unsafe.Add(ref xRef, j));
                TVector.Accumulate(ref s0, TVector.BFloat16FromLowHalves(TVector.Load(ref row, 0)), xe);
                TVector.Accumulate(ref s1, TVector.BFloat16FromLowHalves(TVector.Load(ref row, c)), xe);
                TVector.Accumulate(ref s2, TVector.BFloat16FromLowHalves(TVector.Load(ref row, 2 * c)), xe);
                TVector.Accumulate(ref s3, TVector.BFloat16FromLowHalves(TVector.Load(ref row, 3 * c)), xe);
                TVector.Accumulate(ref s4, TVector.BFloat16FromLowHalves(TVector.Load(ref row, 4 * c)), xe);
                TVector.Accumulate(ref s5, TVector.BFloat16FromLowHalves(TVector.Load(ref row, 5 * c)), xe);
                TVector.Accumulate(ref s6, TVector.BFloat16FromLowHalves(TVector.Load(ref row, 6 * c)), xe);
                TVector.Accumulate(ref s7, TVector.BFloat16FromLowHalves(TVector.Load(ref row, 7 * c)), xe);
            }
            // y[K·Count ..] += sK
            TVector.Store(TVector.Load(ref yRef, 0) + s0, ref yRef, 0);
            TVector.Store(TVector.Load(ref yRef, c) + s1, ref yRef, c);
            TVector.Store(TVector.Load(ref yRef, 2 * c) + s2, ref yRef, 2 * c);
            TVector.Store(TVector.Load(ref yRef, 3 * c) + s3, ref yRef, 3 * c);
            TVector.Store(TVector.Load(ref yRef, 4 * c) + s4, ref yRef, 4 * c);
            TVector.Store(TVector.Load(ref yRef, 5 * c) + s5, ref yRef, 5 * c);
            TVector.Store(TVector.Load(ref yRef, 6 * c) + s6, ref yRef, 6 * c);
            TVector.Store(TVector.Load(ref yRef, 7 * c) + s7, ref yRef, 7 * c);
        }

        /// <summary>Σ_j W[row, j]·x[j] for the Count rows whose words start at <paramref name="words"/>, in the same order as <see cref="EightVectors"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TVector OneVector(ref float words, nuint stride, int cols, ref float xRef)
        {
            TVector s = default;
            ref float row = ref words;
            int j = 0;
            for (; j + 2 <= cols; j += 2)
            {
                Pair(ref s, TVector.Load(ref row, 0), TVector.Create(Unsafe.Add(ref xRef, j)), TVector.Create(Unsafe.Add(ref xRef, j + 1)));
                row = ref Unsafe.Add(ref row, stride);
            }
            if (j < cols)
                TVector.Accumulate(ref s, TVector.BFloat16FromLowHalves(TVector.Load(ref row, 0)), TVector.Create(Unsafe.Add(ref xRef, j)));
            return s;
        }

        /// <summary>s += lo·x_even, then s += hi·x_odd (two fused multiply-adds): one pair of columns.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Pair(ref TVector s, TVector pairs, TVector xe, TVector xo)
        {
            TVector.Accumulate(ref s, TVector.BFloat16FromLowHalves(pairs), xe);
            TVector.Accumulate(ref s, TVector.BFloat16FromHighHalves(pairs), xo);
        }
    }
}
