using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SimdRnn.Kernels.Vectors;

/// <summary>16 floats in a <see cref="Vector512{T}"/> (AVX-512).</summary>
internal readonly struct Float512(Vector512<float> value) : IFloatVector<Float512>
{
    public readonly Vector512<float> Value = value;

    public static int Count => Vector512<float>.Count;
    public static bool IsHardwareAccelerated => Vector512.IsHardwareAccelerated;
    public static Float512 Zero => default;
    public static Float512 One => new(Vector512<float>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Create(float value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Load(ref float source, nuint offset) => new(Vector512.LoadUnsafe(ref source, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Float512 value, ref float destination, nuint offset) => value.Value.StoreUnsafe(ref destination, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 operator +(Float512 a, Float512 b) => new(a.Value + b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 operator -(Float512 a, Float512 b) => new(a.Value - b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 operator *(Float512 a, Float512 b) => new(a.Value * b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 operator /(Float512 a, Float512 b) => new(a.Value / b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 operator &(Float512 a, Float512 b) => new(a.Value & b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 operator |(Float512 a, Float512 b) => new(a.Value | b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 AndNot(Float512 a, Float512 b) => new(Vector512.AndNot(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 MultiplyAdd(Float512 a, Float512 b, Float512 c) => new(Vector512.MultiplyAddEstimate(a.Value, b.Value, c.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Accumulate(ref Float512 acc, Float512 a, Float512 b) => Unsafe.As<Float512, Vector512<float>>(ref acc) = Vector512.MultiplyAddEstimate(a.Value, b.Value, Unsafe.As<Float512, Vector512<float>>(ref acc));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AccumulateLoaded(ref Float512 acc, ref float source, nuint offset, Float512 x) => Unsafe.As<Float512, Vector512<float>>(ref acc) = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref source, offset), x.Value, Unsafe.As<Float512, Vector512<float>>(ref acc));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Abs(Float512 x) => new(Vector512.Abs(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 SquareRoot(Float512 x) => new(Vector512.Sqrt(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Min(Float512 a, Float512 b) => new(Vector512.Min(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Max(Float512 a, Float512 b) => new(Vector512.Max(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 MinNative(Float512 a, Float512 b) => new(Vector512.MinNative(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 MaxNative(Float512 a, Float512 b) => new(Vector512.MaxNative(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 GreaterThan(Float512 a, Float512 b) => new(Vector512.GreaterThan(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 GreaterThanOrEqual(Float512 a, Float512 b) => new(Vector512.GreaterThanOrEqual(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 LessThan(Float512 a, Float512 b) => new(Vector512.LessThan(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 ConditionalSelect(Float512 mask, Float512 a, Float512 b) => new(Vector512.ConditionalSelect(mask.Value, a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Float512 x) => Vector512.Sum(x.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddLaneSums(Float512 a0, Float512 a1, Float512 a2, Float512 a3, ref float y)
    {
        // Fold each vector to 256 bits (lanes k and k + 8 added), then the 8-lane transpose-add.
        Float256Sums.AddLaneSums(
            a0.Value.GetLower() + a0.Value.GetUpper(), a1.Value.GetLower() + a1.Value.GetUpper(),
            a2.Value.GetLower() + a2.Value.GetUpper(), a3.Value.GetLower() + a3.Value.GetUpper(), ref y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 TailMask(int length)
    {
        int alreadyDone = Count - (length % Count);
        return new(Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(alreadyDone)).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 PowerOfTwoFromRounded(Float512 t) =>
        new((Vector512.ShiftLeft(t.Value.AsInt32(), 23) + Vector512.Create(0x3F800000)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 LoadInt8(ref sbyte source, nuint offset)
    {
        // 16 bytes sign-extended to 32-bit lanes (vpmovsxbd), then converted (exactly: |q| ≤ 128).
        Vector128<sbyte> bytes = Vector128.LoadUnsafe(ref source, offset);
        Vector512<int> wide = Avx512F.IsSupported
            ? Avx512F.ConvertToVector512Int32(bytes)
            : Vector512.WidenLower(Vector512.WidenLower(bytes.ToVector256Unsafe().ToVector512Unsafe()));
        return new(Vector512.ConvertToSingle(wide));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 BFloat16FromLowHalves(Float512 pairs) => new(Vector512.ShiftLeft(pairs.Value.AsUInt32(), 16).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 BFloat16FromHighHalves(Float512 pairs) => new((pairs.Value.AsUInt32() & Vector512.Create(0xFFFF0000u)).AsSingle());
}

/// <summary>The horizontal sums of four 8-lane vectors, shared by the 256- and 512-bit widths.</summary>
internal static class Float256Sums
{
    /// <summary>y[K] += Σ_lanes aK, K = 0..3: three horizontal adds and one 128-bit add with AVX.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddLaneSums(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, ref float y)
    {
        if (Avx.IsSupported)
        {
            // Per 128-bit half: hadd(p, q) = [p0+p1, p2+p3, q0+q1, q2+q3].
            Vector256<float> h = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
            // h = [Σa0[0..3], Σa1[0..3], Σa2[0..3], Σa3[0..3] | the same over lanes 4..7]
            (Vector128.LoadUnsafe(ref y) + (h.GetLower() + h.GetUpper())).StoreUnsafe(ref y);
        }
        else
        {
            y += Vector256.Sum(a0);
            Unsafe.Add(ref y, 1) += Vector256.Sum(a1);
            Unsafe.Add(ref y, 2) += Vector256.Sum(a2);
            Unsafe.Add(ref y, 3) += Vector256.Sum(a3);
        }
    }
}
