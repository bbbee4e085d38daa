using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace SimdRnn.Kernels.Vectors;

/// <summary>
/// Exact integer dot products of int8 weights with int16 activations at one width: <see cref="Count"/> int16 lanes
/// (twice the float lanes of the same width), accumulated into int32 lanes. The int8×int16 kernel
/// (<see cref="Gemv.Int8QuantizedInputKernel{TDot}"/>) is written once over this trait; every width computes the same
/// integer sums (integer addition is exact and associative), so every width gives the same bits.
/// </summary>
/// <remarks>
/// Each product is at most 127 · 32767 in magnitude; a lane's running sum stays within int32 for up to
/// <see cref="BlockColumns"/> columns whatever the width (the kernel folds its lanes into an int64 sum after each block).
/// </remarks>
internal interface IInt16Dot<TSelf> where TSelf : struct, IInt16Dot<TSelf>
{
    /// <summary>The columns one step covers: int16 lanes.</summary>
    static abstract int Count { get; }

    /// <summary>The columns after which a row's lanes are folded into its 64-bit sum: 512 · 127 · 32767 &lt; 2^31.</summary>
    const int BlockColumns = 512;

    /// <summary>
    /// <c>acc + Σ pairs w·a</c> over <see cref="Count"/> columns: the weights sign-extended from bytes, times the
    /// activations. (By value: an accumulator written through a reference to this struct was kept in memory by the JIT,
    /// a store and a reload per step.)
    /// </summary>
    static abstract TSelf Accumulate(TSelf acc, ref sbyte w, nuint offset, ref short a);

    /// <summary>The sum of the lanes (exact: it is at most one block's sum).</summary>
    static abstract int Sum(TSelf acc);

    /// <summary>The four lane sums [Σ a0, Σ a1, Σ a2, Σ a3] (exact), by a transpose-add where the width has one.</summary>
    static virtual Vector128<int> Sum4(TSelf a0, TSelf a1, TSelf a2, TSelf a3) =>
        Vector128.Create(TSelf.Sum(a0), TSelf.Sum(a1), TSelf.Sum(a2), TSelf.Sum(a3));

    /// <summary>
    /// Rounds <see cref="Count"/> floats from <c>x + offset</c>, each divided by <paramref name="scale"/>, to the nearest
    /// integer (ties to even) and stores them as int16 at <c>a + offset</c>. The quotients must lie in [−32767, 32767].
    /// </summary>
    static abstract void Quantize(ref float x, nuint offset, float scale, ref short a);
}

/// <summary>The 512-bit width: 32 int16 lanes (<c>vpmovsxbw</c> + <c>vpmaddwd</c>, AVX-512 BW).</summary>
internal readonly struct Int16Dot512(Vector512<int> value) : IInt16Dot<Int16Dot512>
{
    private readonly Vector512<int> _value = value;

    public static int Count => Vector512<short>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Int16Dot512 Accumulate(Int16Dot512 acc, ref sbyte w, nuint offset, ref short a)
    {
        Vector256<sbyte> bytes = Vector256.LoadUnsafe(ref w, offset);
        Vector512<short> x = Vector512.LoadUnsafe(ref a, offset);
        if (Avx512BW.IsSupported) return new(acc._value + Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(bytes), x));
        Vector512<short> wide = Vector512.WidenLower(bytes.ToVector512Unsafe());
        return new(acc._value + Vector512.WidenLower(wide) * Vector512.WidenLower(x) + Vector512.WidenUpper(wide) * Vector512.WidenUpper(x));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Int16Dot512 acc) => Vector512.Sum(acc._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Sum4(Int16Dot512 a0, Int16Dot512 a1, Int16Dot512 a2, Int16Dot512 a3) =>
        Int16Dot256.Sum4(a0._value.GetLower() + a0._value.GetUpper(), a1._value.GetLower() + a1._value.GetUpper(),
            a2._value.GetLower() + a2._value.GetUpper(), a3._value.GetLower() + a3._value.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quantize(ref float x, nuint offset, float scale, ref short a)
    {
        Vector512<float> s = Vector512.Create(scale);
        Vector512<int> lo = Vector512.ConvertToInt32(Vector512.Round(Vector512.LoadUnsafe(ref x, offset) / s));
        Vector512<int> hi = Vector512.ConvertToInt32(Vector512.Round(Vector512.LoadUnsafe(ref x, offset + 16) / s));
        Vector512.Narrow(lo, hi).StoreUnsafe(ref a, offset);
    }
}

/// <summary>The 256-bit width: 16 int16 lanes (<c>vpmovsxbw</c> + <c>vpmaddwd</c>, AVX2).</summary>
internal readonly struct Int16Dot256(Vector256<int> value) : IInt16Dot<Int16Dot256>
{
    private readonly Vector256<int> _value = value;

    public static int Count => Vector256<short>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Int16Dot256 Accumulate(Int16Dot256 acc, ref sbyte w, nuint offset, ref short a)
    {
        Vector128<sbyte> bytes = Vector128.LoadUnsafe(ref w, offset);
        Vector256<short> x = Vector256.LoadUnsafe(ref a, offset);
        if (Avx2.IsSupported) return new(acc._value + Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(bytes), x));
        Vector256<short> wide = Vector256.WidenLower(bytes.ToVector256Unsafe());
        return new(acc._value + Vector256.WidenLower(wide) * Vector256.WidenLower(x) + Vector256.WidenUpper(wide) * Vector256.WidenUpper(x));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Int16Dot256 acc) => Vector256.Sum(acc._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Sum4(Int16Dot256 a0, Int16Dot256 a1, Int16Dot256 a2, Int16Dot256 a3) => Sum4(a0._value, a1._value, a2._value, a3._value);

    /// <summary>[Σ a0, Σ a1, Σ a2, Σ a3] of four 8-lane vectors: three horizontal adds and one 128-bit add with AVX2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Sum4(Vector256<int> a0, Vector256<int> a1, Vector256<int> a2, Vector256<int> a3)
    {
        if (!Avx2.IsSupported) return Vector128.Create(Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
        // Per 128-bit half: hadd(p, q) = [p0+p1, p2+p3, q0+q1, q2+q3]; the two halves then added.
        Vector256<int> h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(a0, a1), Avx2.HorizontalAdd(a2, a3));
        return h.GetLower() + h.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quantize(ref float x, nuint offset, float scale, ref short a)
    {
        Vector256<float> s = Vector256.Create(scale);
        Vector256<int> lo = Vector256.ConvertToInt32(Vector256.Round(Vector256.LoadUnsafe(ref x, offset) / s));
        Vector256<int> hi = Vector256.ConvertToInt32(Vector256.Round(Vector256.LoadUnsafe(ref x, offset + 8) / s));
        Vector256.Narrow(lo, hi).StoreUnsafe(ref a, offset);
    }
}

/// <summary>The 128-bit width: 8 int16 lanes (<c>pmovsxbw</c> + <c>pmaddwd</c>; on ARM64 widening multiply-adds).</summary>
internal readonly struct Int16Dot128(Vector128<int> value) : IInt16Dot<Int16Dot128>
{
    private readonly Vector128<int> _value = value;

    public static int Count => Vector128<short>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Int16Dot128 Accumulate(Int16Dot128 acc, ref sbyte w, nuint offset, ref short a)
    {
        Vector128<int> sum = acc._value;
        long raw = Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref w, offset)));
        Vector128<sbyte> bytes = Vector128.CreateScalarUnsafe(raw).AsSByte();
        Vector128<short> x = Vector128.LoadUnsafe(ref a, offset);
        if (Sse41.IsSupported) return new(sum + Sse2.MultiplyAddAdjacent(Sse41.ConvertToVector128Int16(bytes), x));
        if (AdvSimd.IsSupported)
        {
            Vector128<short> wide = AdvSimd.SignExtendWideningLower(bytes.GetLower());
            sum = AdvSimd.MultiplyWideningLowerAndAdd(sum, wide.GetLower(), x.GetLower());
            return new(AdvSimd.MultiplyWideningUpperAndAdd(sum, wide, x));
        }
        Vector128<short> widened = Vector128.WidenLower(bytes);
        return new(sum + Vector128.WidenLower(widened) * Vector128.WidenLower(x) + Vector128.WidenUpper(widened) * Vector128.WidenUpper(x));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Int16Dot128 acc) => Vector128.Sum(acc._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quantize(ref float x, nuint offset, float scale, ref short a)
    {
        Vector128<float> s = Vector128.Create(scale);
        Vector128<int> lo = Vector128.ConvertToInt32(Vector128.Round(Vector128.LoadUnsafe(ref x, offset) / s));
        Vector128<int> hi = Vector128.ConvertToInt32(Vector128.Round(Vector128.LoadUnsafe(ref x, offset + 4) / s));
        Vector128.Narrow(lo, hi).StoreUnsafe(ref a, offset);
    }
}

/// <summary>One lane: the same sums, one product at a time.</summary>
internal readonly struct Int16DotScalar(int value) : IInt16Dot<Int16DotScalar>
{
    private readonly int _value = value;

    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Int16DotScalar Accumulate(Int16DotScalar acc, ref sbyte w, nuint offset, ref short a) =>
        new(acc._value + Unsafe.Add(ref w, offset) * Unsafe.Add(ref a, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Int16DotScalar acc) => acc._value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quantize(ref float x, nuint offset, float scale, ref short a) =>
        Unsafe.Add(ref a, offset) = (short)MathF.Round(Unsafe.Add(ref x, offset) / scale, MidpointRounding.ToEven);
}
