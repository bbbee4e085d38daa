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
    /// <see cref="Count"/> int8 weights from <c>w + offset</c> sign-extended to int16 lanes, held in this struct's bits
    /// (so one widening can feed several <see cref="MultiplyAdd"/>s).
    /// </summary>
    static abstract TSelf LoadWeights(ref sbyte w, nuint offset);

    /// <summary>
    /// <c>acc + Σ pairs weights·a</c>: the widened <paramref name="weights"/> (<see cref="LoadWeights"/>) times the
    /// <see cref="Count"/> activations at <c>a + offset</c>, adjacent pairs summed into int32 lanes. (By value: an
    /// accumulator written through a reference to this struct was kept in memory by the JIT, a store and a reload per step.)
    /// </summary>
    static abstract TSelf MultiplyAdd(TSelf acc, TSelf weights, ref short a, nuint offset);

    /// <summary><c>acc + Σ pairs w·a</c> over <see cref="Count"/> columns from <c>offset</c>.</summary>
    static virtual TSelf Accumulate(TSelf acc, ref sbyte w, nuint offset, ref short a) => TSelf.MultiplyAdd(acc, TSelf.LoadWeights(ref w, offset), ref a, offset);

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

/// <summary>A kernel call run at the int16 width of a float width (<see cref="Int16DotWidth.Run{TVector, TCall}"/>).</summary>
internal interface IInt16DotCall
{
    void Run<TDot>() where TDot : struct, IInt16Dot<TDot>;
}

/// <summary>The int16 width of each float width: the same bits, twice the lanes.</summary>
internal static class Int16DotWidth
{
    /// <summary>Runs <paramref name="call"/> at the int16 width of <typeparamref name="TVector"/> (a JIT-time choice).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TVector, TCall>(ref TCall call) where TVector : struct, IFloatVector<TVector> where TCall : IInt16DotCall, allows ref struct
    {
        if (typeof(TVector) == typeof(Float512) || (typeof(TVector) == typeof(FloatVector) && FloatVector.Count == 16)) call.Run<Int16Dot512>();
        else if (typeof(TVector) == typeof(FloatVector) && FloatVector.Count == 8) call.Run<Int16Dot256>();
        else if (typeof(TVector) == typeof(FloatVector) || typeof(TVector) == typeof(Float128)) call.Run<Int16Dot128>();
        else call.Run<Int16DotScalar>();
    }
}

/// <summary>The 512-bit width: 32 int16 lanes (<c>vpmovsxbw</c> + <c>vpmaddwd</c>, AVX-512 BW).</summary>
internal readonly struct Int16Dot512(Vector512<int> value) : IInt16Dot<Int16Dot512>
{
    private readonly Vector512<int> _value = value;

    public static int Count => Vector512<short>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Int16Dot512 LoadWeights(ref sbyte w, nuint offset)
    {
        Vector256<sbyte> bytes = Vector256.LoadUnsafe(ref w, offset);
        return new((Avx512BW.IsSupported ? Avx512BW.ConvertToVector512Int16(bytes) : Vector512.WidenLower(bytes.ToVector512Unsafe())).AsInt32());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Int16Dot512 MultiplyAdd(Int16Dot512 acc, Int16Dot512 weights, ref short a, nuint offset)
    {
        Vector512<short> x = Vector512.LoadUnsafe(ref a, offset), wide = weights._value.AsInt16();
        if (Avx512BW.IsSupported) return new(acc._value + Avx512BW.MultiplyAddAdjacent(wide, x));
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
    public static Int16Dot256 LoadWeights(ref sbyte w, nuint offset)
    {
        Vector128<sbyte> bytes = Vector128.LoadUnsafe(ref w, offset);
        return new((Avx2.IsSupported ? Avx2.ConvertToVector256Int16(bytes) : Vector256.WidenLower(bytes.ToVector256Unsafe())).AsInt32());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Int16Dot256 MultiplyAdd(Int16Dot256 acc, Int16Dot256 weights, ref short a, nuint offset)
    {
        Vector256<short> x = Vector256.LoadUnsafe(ref a, offset), wide = weights._value.AsInt16();
        if (Avx2.IsSupported) return new(acc._value + Avx2.MultiplyAddAdjacent(wide, x));
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
    public static Int16Dot128 LoadWeights(ref sbyte w, nuint offset)
    {
        long raw = Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref w, offset)));
        Vector128<sbyte> bytes = Vector128.CreateScalarUnsafe(raw).AsSByte();
        if (Sse41.IsSupported) return new(Sse41.ConvertToVector128Int16(bytes).AsInt32());
        if (AdvSimd.IsSupported) return new(AdvSimd.SignExtendWideningLower(bytes.GetLower()).AsInt32());
        return new(Vector128.WidenLower(bytes).AsInt32());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Int16Dot128 MultiplyAdd(Int16Dot128 acc, Int16Dot128 weights, ref short a, nuint offset)
    {
        Vector128<short> x = Vector128.LoadUnsafe(ref a, offset), wide = weights._value.AsInt16();
        if (Sse2.IsSupported) return new(acc._value + Sse2.MultiplyAddAdjacent(wide, x));
        if (AdvSimd.IsSupported)
            return new(AdvSimd.MultiplyWideningUpperAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(acc._value, wide.GetLower(), x.GetLower()), wide, x));
        return new(acc._value + Vector128.WidenLower(wide) * Vector128.WidenLower(x) + Vector128.WidenUpper(wide) * Vector128.WidenUpper(x));
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
    public static Int16DotScalar LoadWeights(ref sbyte w, nuint offset) => new(Unsafe.Add(ref w, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Int16DotScalar MultiplyAdd(Int16DotScalar acc, Int16DotScalar weights, ref short a, nuint offset) =>
        new(acc._value + weights._value * Unsafe.Add(ref a, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Int16DotScalar acc) => acc._value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quantize(ref float x, nuint offset, float scale, ref short a) =>
        Unsafe.Add(ref a, offset) = (short)MathF.Round(Unsafe.Add(ref x, offset) / scale, MidpointRounding.ToEven);
}
