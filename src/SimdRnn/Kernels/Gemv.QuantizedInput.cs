using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

public static partial class Gemv
{
    // ------------------------------------------------------------------ int8 weights × int16-quantized inputs

    /// <summary>The largest int16 activation: an input vector x is quantized with <c>s_x = max_j |x_j| / 32767</c>.</summary>
    internal const int Int16Limit = 32767;

    /// <summary>
    /// The bytes an int8 matrix keeps readable after its last element: the int8×int16 kernel reads each row in whole
    /// vectors of up to 32 columns, past the row's end into the next row (or this slack), where the zero-padded
    /// activations make every such product 0 exactly.
    /// </summary>
    internal const int Int8ReadSlack = 64;

    /// <summary>
    /// <c>y[i] += fl(S_i) · fl(s_i · s_x)</c> for the rows [first, first + count) of an int8 matrix with
    /// <see cref="PackedMatrix.QuantizesInputs"/>: x is quantized once per call, <c>s_x = fl(max_j |x_j| / 32767)</c>,
    /// <c>a_j = round-half-to-even(fl(x_j / s_x))</c> (|a_j| ≤ 32767), and <c>S_i = Σ_j q[i,j]·a_j</c> is summed exactly
    /// in integers (so every width gives the same bits). When <c>s_x</c> is not a normal float — x is all zeros, tiny,
    /// or holds NaN or ±∞ — x is not quantized: the product is <see cref="MultiplyAccumulateInt8"/>'s (float
    /// activations), so non-finite inputs propagate as they do in the <see cref="WeightFormat.Int8"/> format.
    /// Arguments are assumed valid: x holds W.Cols floats, y <paramref name="rowCount"/>.
    /// </summary>
    internal static void MultiplyAccumulateInt8QuantizedInputUnchecked(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, Span<float> y) =>
        MultiplyAccumulateInt8QuantizedInputAt(VectorWidth.For(w.Cols), w, firstRow, rowCount, x, y);

    /// <summary><see cref="MultiplyAccumulateInt8QuantizedInputUnchecked"/> at <paramref name="width"/> (whose float lanes must fit a row).</summary>
    internal static void MultiplyAccumulateInt8QuantizedInputAt(Width width, PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, Span<float> y)
    {
        if (rowCount == 0 || w.Cols == 0) return;
        var call = new QuantizedInputCall(w, firstRow, rowCount, x, y);
        VectorWidth.Run(width, ref call);
    }

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

    private readonly ref struct QuantizedInputCall(PackedMatrix w, int firstRow, int rowCount, ReadOnlySpan<float> x, Span<float> y) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector>
        {
            int k = w.Cols;
            float scale = InputScale<TVector>(_x);
            ReadOnlySpan<float> rowScales = w.RowScales.Slice(firstRow, rowCount);
            if (!float.IsNormal(scale))
            {
                // Zeros, a tiny or a non-finite x: float activations (the int8 format's product).
                Int8Kernel<TVector>.MultiplyAccumulate(w.Int8Data.Slice(firstRow * k, rowCount * k), rowScales, rowCount, k, _x, _y);
                return;
            }
            ref sbyte q = ref Unsafe.Add(ref MemoryMarshal.GetReference(w.Int8Data), (nint)firstRow * k);
            // The int16 width of the float width: twice the lanes in the same bits.
            if (typeof(TVector) == typeof(Float512)) Int8QuantizedInputKernel<Int16Dot512>.Run(ref q, rowScales, rowCount, k, _x, scale, _y);
            else if (typeof(TVector) == typeof(FloatVector))
            {
                if (FloatVector.Count == 16) Int8QuantizedInputKernel<Int16Dot512>.Run(ref q, rowScales, rowCount, k, _x, scale, _y);
                else if (FloatVector.Count == 8) Int8QuantizedInputKernel<Int16Dot256>.Run(ref q, rowScales, rowCount, k, _x, scale, _y);
                else Int8QuantizedInputKernel<Int16Dot128>.Run(ref q, rowScales, rowCount, k, _x, scale, _y);
            }
            else if (typeof(TVector) == typeof(Float128)) Int8QuantizedInputKernel<Int16Dot128>.Run(ref q, rowScales, rowCount, k, _x, scale, _y);
            else Int8QuantizedInputKernel<Int16DotScalar>.Run(ref q, rowScales, rowCount, k, _x, scale, _y);
        }
    }

    /// <summary>
    /// The int8×int16 GEMV, written once for every width: x quantized into a zero-padded, 64-byte-aligned int16 copy
    /// (on the stack up to <see cref="StackColumns"/> columns), then four rows per pass sharing each activation vector,
    /// each row's products summed exactly in int32 lanes, folded into an int64 sum every
    /// <see cref="IInt16Dot{TSelf}.BlockColumns"/> columns, converted to float once and scaled once.
    /// </summary>
    internal static class Int8QuantizedInputKernel<TDot> where TDot : struct, IInt16Dot<TDot>
    {
        /// <summary>The most columns whose int16 copy goes on the stack (8 KiB); wider inputs rent it from the shared pool.</summary>
        private const int StackColumns = 4096;

        public static unsafe void Run(ref sbyte q, ReadOnlySpan<float> rowScales, int rows, int cols, ReadOnlySpan<float> x, float inputScale, Span<float> y)
        {
            int count = TDot.Count;
            int padded = (cols + count - 1) / count * count;
            short[]? rented = null;
            Span<short> raw = padded <= StackColumns ? stackalloc short[padded + 32] : (rented = ArrayPool<short>.Shared.Rent(padded + 32));
            // The first 64-byte boundary in the buffer (a stack address does not move; a rented array only risks alignment).
            int skip = (int)((64 - (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(raw)) % 64) % 64) / sizeof(short);
            Span<short> a = raw.Slice(skip, padded);
            Quantize(x, inputScale, a, cols);
            MultiplyAccumulate(ref q, ref MemoryMarshal.GetReference(rowScales), rows, cols, ref MemoryMarshal.GetReference(a), padded, inputScale,
                ref MemoryMarshal.GetReference(y));
            if (rented is not null) ArrayPool<short>.Shared.Return(rented);
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
