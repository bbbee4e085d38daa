using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

public static partial class Gemv
{
    // ------------------------------------------------------------------ int8 weights × int16-quantized inputs

    /// <summary>
    /// Where a descending one-row product's next block starts (snake order, <see cref="MatrixProducts.MultiplyOneRow"/>):
    /// the first row of the block of <paramref name="block"/> rows, counted from <paramref name="origin"/>, that holds row
    /// <paramref name="top"/> − 1, but not below <paramref name="first"/>. The product then runs rows [start, top) and
    /// goes on with top = start until top = first.
    /// </summary>
    internal static int DescendingBlockStart(int top, int first, int origin, int block) =>
        Math.Max(first, origin + (top - 1 - origin) / block * block);

    /// <summary>The largest int16 activation: an input vector x is quantized with <c>s_x = max_j |x_j| / 32767</c>.</summary>
    internal const int Int16Limit = 32767;

    /// <summary>
    /// The bytes an int8 matrix keeps readable after its last element: the int8×int16 kernel reads each row in whole
    /// vectors of up to 32 columns, past the row's end into the next row (or this slack), where the zero-padded
    /// activations make every such product 0 exactly.
    /// </summary>
    internal const int Int8ReadSlack = 64;

    /// <summary>
    /// The quantization scale <c>s_x = fl(max_j |x_j| / 32767)</c> (NaN if x holds a NaN, ∞ if it holds ±∞ and no NaN):
    /// the max at <typeparamref name="TVector"/>'s width (exact at every width: a max does not round).
    /// </summary>
    internal static float InputScale<TVector>(ReadOnlySpan<float> x) where TVector : struct, IFloatVector<TVector>
    {
        int n = x.Length, count = TVector.Count;
        ref float xRef = ref MemoryMarshal.GetReference(x);
        float max = 0;
        if (n >= count)
        {
            // m = max over lanes of |x|: whole vectors, then the overlapping last one (a max is idempotent).
            TVector m = TVector.Zero;
            for (int j = 0; j + count <= n; j += count) m = TVector.Max(m, TVector.Abs(TVector.Load(ref xRef, (nuint)j)));
            m = TVector.Max(m, TVector.Abs(TVector.Load(ref xRef, (nuint)(n - count))));
            Span<float> lanes = stackalloc float[count];
            VectorSpan<TVector>.Store(m, lanes, 0);
            foreach (float lane in lanes) max = MathF.Max(max, lane);
        }
        else
        {
            for (int j = 0; j < n; j++) max = MathF.Max(max, MathF.Abs(Unsafe.Add(ref xRef, j)));
        }
        return max / Int16Limit;
    }

    /// <summary>
    /// Y[rows × count] += each row of X[rows × W.Cols] times rows [first, first + count) of an int8 matrix with
    /// <see cref="PackedMatrix.QuantizesInputs"/>, row m of Y: <c>y[m, i] += fl(S_mi) · fl(s_i · s_m)</c>. Each row x of X
    /// is quantized on its own, <c>s = fl(max_j |x_j| / 32767)</c>, <c>a_j = round-half-to-even(fl(x_j / s))</c>
    /// (|a_j| ≤ 32767), and <c>S_mi = Σ_j q[i,j]·a_j</c> is summed exactly in integers: every width, and every row
    /// count, gives a row the same bits. When a row's s is not a normal float — the row is all zeros, tiny, or holds NaN
    /// or ±∞ — it is not quantized: its product is <see cref="MultiplyAccumulateInt8"/>'s (float activations), so
    /// non-finite inputs propagate. Four rows of X at a time share each widened vector of weights (the widening, not the
    /// multiply-add, bounds the one-row kernel on AVX-512 here). <paramref name="descendingBlockRows"/> &gt; 0: a quantized
    /// input row that is the only one reads W's rows in blocks of that many (a multiple of four), from the last block to
    /// the first (the snake order of <see cref="MatrixProducts.MultiplyOneRow"/>; integer sums, so the same bits).
    /// Arguments are assumed valid.
    /// </summary>
    internal static void MultiplyAccumulateInt8QuantizedInputUnchecked(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, int rows, Span<float> y,
        int descendingBlockRows = 0) =>
        MultiplyAccumulateInt8QuantizedInputAt(VectorWidth.For(w.Cols), w, firstRow, rowCount, x, rows, y, descendingBlockRows);

    /// <summary><see cref="MultiplyAccumulateInt8QuantizedInputUnchecked"/> at <paramref name="width"/> (whose float lanes must fit a row).</summary>
    internal static void MultiplyAccumulateInt8QuantizedInputAt(Width width, PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, int rows, Span<float> y,
        int descendingBlockRows = 0)
    {
        if (rowCount == 0 || w.Cols == 0 || rows == 0) return;
        var call = new QuantizedRowsCall(w, firstRow, rowCount, x, rows, y, rows == 1 ? descendingBlockRows : 0);
        VectorWidth.Run(width, ref call);
    }

    private readonly ref struct QuantizedRowsCall(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, int rows, Span<float> y,
        int descendingBlockRows) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector>
        {
            int k = w.Cols, m = 0;
            for (; m + 4 <= rows; m += 4)
            {
                ReadOnlySpan<float> x4 = _x.Slice(m * k, 4 * k);
                Span<float> y4 = _y.Slice(m * rowCount, 4 * rowCount);
                var scales = Vector128.Create(InputScale<TVector>(x4.Slice(0, k)), InputScale<TVector>(x4.Slice(k, k)),
                    InputScale<TVector>(x4.Slice(2 * k, k)), InputScale<TVector>(x4.Slice(3 * k, k)));
                if (float.IsNormal(scales[0]) && float.IsNormal(scales[1]) && float.IsNormal(scales[2]) && float.IsNormal(scales[3]))
                {
                    var four = new FourRows(w, firstRow, rowCount, x4, scales, y4);
                    Int16DotWidth.Run<TVector, FourRows>(ref four);
                }
                else
                {
                    for (int r = 0; r < 4; r++) OneRow<TVector>(w, firstRow, rowCount, x4.Slice(r * k, k), scales[r], y4.Slice(r * rowCount, rowCount));
                }
            }
            for (; m < rows; m++)
            {
                ReadOnlySpan<float> x1 = _x.Slice(m * k, k);
                OneRow<TVector>(w, firstRow, rowCount, x1, InputScale<TVector>(x1), _y.Slice(m * rowCount, rowCount), descendingBlockRows);
            }
        }
    }

    /// <summary>One row of X with its <paramref name="scale"/>: quantized and multiplied, or (a scale that is not normal) the int8 kernel's float product.</summary>
    private static void OneRow<TVector>(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, float scale, Span<float> y,
        int descendingBlockRows = 0)
        where TVector : struct, IFloatVector<TVector>
    {
        int k = w.Cols;
        ReadOnlySpan<float> rowScales = w.RowScales.Slice(firstRow, rowCount);
        if (!float.IsNormal(scale))
        {
            // Zeros, a tiny or a non-finite x: float activations (the int8 format's product).
            Int8Kernel<TVector>.MultiplyAccumulate(w.Int8Data.Slice(firstRow * k, rowCount * k), rowScales, rowCount, k, x, y);
            return;
        }
        var one = new SingleRow(w, firstRow, rowCount, x, scale, y, descendingBlockRows);
        Int16DotWidth.Run<TVector, SingleRow>(ref one);
    }

    private readonly ref struct SingleRow(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, float scale, Span<float> y,
        int descendingBlockRows) : IInt16DotCall
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;

        public void Run<TDot>() where TDot : struct, IInt16Dot<TDot> =>
            Int8QuantizedInputKernel<TDot>.Run(ref Unsafe.Add(ref MemoryMarshal.GetReference(w.Int8Data), (nint)firstRow * w.Cols),
                w.RowScales.Slice(firstRow, rowCount), rowCount, w.Cols, _x, scale, _y, descendingBlockRows);
    }

    private readonly ref struct FourRows(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, Vector128<float> scales, Span<float> y) : IInt16DotCall
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;

        public void Run<TDot>() where TDot : struct, IInt16Dot<TDot> =>
            Int8QuantizedInputKernel<TDot>.RunFourInputs(ref Unsafe.Add(ref MemoryMarshal.GetReference(w.Int8Data), (nint)firstRow * w.Cols),
                w.RowScales.Slice(firstRow, rowCount), rowCount, w.Cols, _x, scales, _y);
    }

    /// <summary>
    /// The int8×int16 GEMV, written once for every width: x quantized into a zero-padded, 64-byte-aligned int16 copy
    /// (on the stack up to <see cref="StackShorts"/> int16 values in all), then four rows per pass sharing each activation vector,
    /// each row's products summed exactly in int32 lanes, folded into an int64 sum every
    /// <see cref="IInt16Dot{TSelf}.BlockColumns"/> columns, converted to float once and scaled once.
    /// </summary>
    internal static class Int8QuantizedInputKernel<TDot> where TDot : struct, IInt16Dot<TDot>
    {
        /// <summary>
        /// The most int16 values a call's copy keeps on the stack (32 KiB: 16384 columns of one input, 4096 of four);
        /// wider inputs rent it from the shared pool (no allocation once the pool holds an array of that size).
        /// </summary>
        private const int StackShorts = 16384;

        /// <summary>
        /// <paramref name="length"/> values of <paramref name="raw"/> (≥ length + 31 long) from its first 64-byte boundary
        /// (a stack address does not move; a rented array, which might, only risks the alignment).
        /// </summary>
        private static unsafe Span<short> Aligned(Span<short> raw, int length)
        {
            int skip = (int)((64 - (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(raw)) % 64) % 64) / sizeof(short);
            return raw.Slice(skip, length);
        }

        /// <summary>
        /// y[rows] += the rows of q times x quantized with <paramref name="inputScale"/>; <paramref name="descendingBlockRows"/>
        /// &gt; 0: the rows in blocks of that many from the last block to the first (x quantized once).
        /// </summary>
        public static void Run(ref sbyte q, ReadOnlySpan<float> rowScales, int rows, int cols, ReadOnlySpan<float> x, float inputScale, Span<float> y,
            int descendingBlockRows = 0)
        {
            int count = TDot.Count;
            int padded = (cols + count - 1) / count * count;
            short[]? rented = null;
            Span<short> a = Aligned(padded <= StackShorts ? stackalloc short[padded + 32] : (rented = ArrayPool<short>.Shared.Rent(padded + 32)), padded);
            Quantize(x, inputScale, a, cols);
            ref float scaleRef = ref MemoryMarshal.GetReference(rowScales);
            ref short aRef = ref MemoryMarshal.GetReference(a);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            // Ascending: one block of all the rows. Descending: blocks from the last to the first, x quantized once.
            int block = descendingBlockRows > 0 ? descendingBlockRows : rows;
            for (int top = rows; top > 0;)
            {
                int start = DescendingBlockStart(top, 0, 0, block);
                MultiplyAccumulate(ref Unsafe.Add(ref q, (nint)start * cols), ref Unsafe.Add(ref scaleRef, start), top - start, cols, ref aRef, padded,
                    inputScale, ref Unsafe.Add(ref yRef, start));
                top = start;
            }
            if (rented is not null) ArrayPool<short>.Shared.Return(rented);
        }

        /// <summary>
        /// Y[4 × rows] += the four rows of X [4 × cols], each quantized with its own (normal) scale in
        /// <paramref name="inputScales"/>: each element the bits <see cref="Run"/> gives it.
        /// </summary>
        public static void RunFourInputs(ref sbyte q, ReadOnlySpan<float> rowScales, int rows, int cols, ReadOnlySpan<float> x, Vector128<float> inputScales, Span<float> y)
        {
            int count = TDot.Count;
            int padded = (cols + count - 1) / count * count;
            short[]? rented = null;
            Span<short> a = Aligned(4 * padded <= StackShorts ? stackalloc short[4 * padded + 32] : (rented = ArrayPool<short>.Shared.Rent(4 * padded + 32)), 4 * padded);
            for (int m = 0; m < 4; m++) Quantize(x.Slice(m * cols, cols), inputScales[m], a.Slice(m * padded, padded), cols);
            MultiplyAccumulateFour(ref q, ref MemoryMarshal.GetReference(rowScales), rows, cols, ref MemoryMarshal.GetReference(a), padded, inputScales,
                ref MemoryMarshal.GetReference(y));
            if (rented is not null) ArrayPool<short>.Shared.Return(rented);
        }

        /// <summary>
        /// y[m, i] += fl(Σ_j q[i,j]·a[m, j]) · fl(s_i·s_m) for the four inputs m: two weight rows per pass, each vector
        /// of their weights widened once and multiplied with the four inputs (eight accumulators).
        /// </summary>
        private static void MultiplyAccumulateFour(ref sbyte q, ref float rowScale, int rows, int cols, ref short a, int padded, Vector128<float> inputScales, ref float y)
        {
            nuint step = (nuint)TDot.Count;
            ref short a0 = ref a;
            ref short a1 = ref Unsafe.Add(ref a0, padded);
            ref short a2 = ref Unsafe.Add(ref a1, padded);
            ref short a3 = ref Unsafe.Add(ref a2, padded);
            int i = 0;
            for (; i <= rows - 2; i += 2)
            {
                ref sbyte r0 = ref Unsafe.Add(ref q, (nint)i * cols);
                ref sbyte r1 = ref Unsafe.Add(ref r0, cols);
                // tK: the 64-bit sums of weight row i + K with the four inputs.
                Vector256<long> t0 = Vector256<long>.Zero, t1 = Vector256<long>.Zero;
                for (int block = 0; block < padded; block += IInt16Dot<TDot>.BlockColumns)
                {
                    // eKM: lane-wise partial sums of Σ_j q[i+K, j]·a[M, j] over this block.
                    TDot e00 = default, e01 = default, e02 = default, e03 = default;
                    TDot e10 = default, e11 = default, e12 = default, e13 = default;
                    nuint end = (nuint)Math.Min(padded, block + IInt16Dot<TDot>.BlockColumns);
                    for (nuint j = (nuint)block; j < end; j += step)
                    {
                        TDot w0 = TDot.LoadWeights(ref r0, j), w1 = TDot.LoadWeights(ref r1, j);
                        e00 = TDot.MultiplyAdd(e00, w0, ref a0, j);
                        e01 = TDot.MultiplyAdd(e01, w0, ref a1, j);
                        e02 = TDot.MultiplyAdd(e02, w0, ref a2, j);
                        e03 = TDot.MultiplyAdd(e03, w0, ref a3, j);
                        e10 = TDot.MultiplyAdd(e10, w1, ref a0, j);
                        e11 = TDot.MultiplyAdd(e11, w1, ref a1, j);
                        e12 = TDot.MultiplyAdd(e12, w1, ref a2, j);
                        e13 = TDot.MultiplyAdd(e13, w1, ref a3, j);
                    }
                    t0 += Vector256.WidenLower(TDot.Sum4(e00, e01, e02, e03).ToVector256Unsafe());
                    t1 += Vector256.WidenLower(TDot.Sum4(e10, e11, e12, e13).ToVector256Unsafe());
                }
                AddToInputs(t0, ref rowScale, i, rows, inputScales, ref y);
                AddToInputs(t1, ref rowScale, i + 1, rows, inputScales, ref y);
            }
            if (i < rows)
            {
                ref sbyte r0 = ref Unsafe.Add(ref q, (nint)i * cols);
                Vector256<long> t0 = Vector256<long>.Zero;
                for (int block = 0; block < padded; block += IInt16Dot<TDot>.BlockColumns)
                {
                    TDot e00 = default, e01 = default, e02 = default, e03 = default;
                    nuint end = (nuint)Math.Min(padded, block + IInt16Dot<TDot>.BlockColumns);
                    for (nuint j = (nuint)block; j < end; j += step)
                    {
                        TDot w0 = TDot.LoadWeights(ref r0, j);
                        e00 = TDot.MultiplyAdd(e00, w0, ref a0, j);
                        e01 = TDot.MultiplyAdd(e01, w0, ref a1, j);
                        e02 = TDot.MultiplyAdd(e02, w0, ref a2, j);
                        e03 = TDot.MultiplyAdd(e03, w0, ref a3, j);
                    }
                    t0 += Vector256.WidenLower(TDot.Sum4(e00, e01, e02, e03).ToVector256Unsafe());
                }
                AddToInputs(t0, ref rowScale, i, rows, inputScales, ref y);
            }
        }

        /// <summary>y[m, i] += fl(S_m)·fl(s_i·s_m) for m = 0..3 (rows of y <paramref name="rows"/> apart): the single-row kernel's operations.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddToInputs(Vector256<long> sums, ref float rowScale, int i, int rows, Vector128<float> inputScales, ref float y)
        {
            Vector128<float> products = Vector128.Create((float)sums[0], (float)sums[1], (float)sums[2], (float)sums[3])
                * (Vector128.Create(Unsafe.Add(ref rowScale, i)) * inputScales);
            Unsafe.Add(ref y, i) += products[0];
            Unsafe.Add(ref y, rows + i) += products[1];
            Unsafe.Add(ref y, 2 * rows + i) += products[2];
            Unsafe.Add(ref y, 3 * rows + i) += products[3];
        }

        /// <summary>a_j = round-half-to-even(x_j / s_x) for j &lt; cols; zeros in the padding [cols, a.Length).</summary>
        private static void Quantize(ReadOnlySpan<float> x, float scale, Span<short> a, int cols)
        {
            a.Slice(cols).Clear();
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref short aRef = ref MemoryMarshal.GetReference(a);
            int count = TDot.Count;
            if (cols < count)
            {
                for (int j = 0; j < cols; j++) Int16DotScalar.Quantize(ref xRef, (nuint)j, scale, ref aRef);
                return;
            }
            for (int j = 0; j + count <= cols; j += count) TDot.Quantize(ref xRef, (nuint)j, scale, ref aRef);
            if (cols % count != 0) TDot.Quantize(ref xRef, (nuint)(cols - count), scale, ref aRef); // overlapping: the same values again
        }

        /// <summary>y[i] += fl(Σ_j q[i,j]·a_j) · fl(s_i·s_x), four rows per pass.</summary>
        private static void MultiplyAccumulate(ref sbyte q, ref float rowScale, int rows, int cols, ref short a, int padded, float inputScale, ref float y)
        {
            nuint step = (nuint)TDot.Count;
            int i = 0;
            for (; i <= rows - 4; i += 4)
            {
                ref sbyte r0 = ref Unsafe.Add(ref q, (nint)i * cols);
                ref sbyte r1 = ref Unsafe.Add(ref r0, cols);
                ref sbyte r2 = ref Unsafe.Add(ref r1, cols);
                ref sbyte r3 = ref Unsafe.Add(ref r2, cols);
                // The four rows' 64-bit sums: one block's int32 sums (exact) widened and added per block.
                Vector256<long> sums = Vector256<long>.Zero;
                for (int block = 0; block < padded; block += IInt16Dot<TDot>.BlockColumns)
                {
                    // dK: lane-wise partial sums of Σ_j q[i+K, j]·a_j over this block; the four rows share each load of a.
                    TDot d0 = default, d1 = default, d2 = default, d3 = default;
                    nuint end = (nuint)Math.Min(padded, block + IInt16Dot<TDot>.BlockColumns);
                    for (nuint j = (nuint)block; j < end; j += step)
                    {
                        d0 = TDot.Accumulate(d0, ref r0, j, ref a);
                        d1 = TDot.Accumulate(d1, ref r1, j, ref a);
                        d2 = TDot.Accumulate(d2, ref r2, j, ref a);
                        d3 = TDot.Accumulate(d3, ref r3, j, ref a);
                    }
                    sums += Vector256.WidenLower(TDot.Sum4(d0, d1, d2, d3).ToVector256Unsafe());
                }
                // y[i + K] += fl(S_K)·fl(s_{i+K}·s_x)
                Vector128<float> rowScales = Vector128.LoadUnsafe(ref Unsafe.Add(ref rowScale, i)) * Vector128.Create(inputScale);
                Vector128<float> total = Vector128.Create((float)sums[0], (float)sums[1], (float)sums[2], (float)sums[3]);
                ref float yi = ref Unsafe.Add(ref y, i);
                (Vector128.LoadUnsafe(ref yi) + total * rowScales).StoreUnsafe(ref yi);
            }
            for (; i < rows; i++)
            {
                ref sbyte r0 = ref Unsafe.Add(ref q, (nint)i * cols);
                long s0 = 0;
                for (int block = 0; block < padded; block += IInt16Dot<TDot>.BlockColumns)
                {
                    TDot d0 = default;
                    nuint end = (nuint)Math.Min(padded, block + IInt16Dot<TDot>.BlockColumns);
                    for (nuint j = (nuint)block; j < end; j += step) d0 = TDot.Accumulate(d0, ref r0, j, ref a);
                    s0 += TDot.Sum(d0);
                }
                Unsafe.Add(ref y, i) += s0 * (Unsafe.Add(ref rowScale, i) * inputScale);
            }
        }
    }
}
