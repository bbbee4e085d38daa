using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SimdRnn.Kernels.Vectors;

/// <summary>4 floats in a <see cref="Vector128{T}"/> (SSE, NEON).</summary>
internal readonly struct Float128(Vector128<float> value) : IFloatVector<Float128>
{
    public readonly Vector128<float> Value = value;

    public static int Count => Vector128<float>.Count;
    public static bool IsHardwareAccelerated => Vector128.IsHardwareAccelerated;
    public static Float128 Zero => default;
    public static Float128 One => new(Vector128<float>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Create(float value) => new(Vector128.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Load(ref float source, nuint offset) => new(Vector128.LoadUnsafe(ref source, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Float128 value, ref float destination, nuint offset) => value.Value.StoreUnsafe(ref destination, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 operator +(Float128 a, Float128 b) => new(a.Value + b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 operator -(Float128 a, Float128 b) => new(a.Value - b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 operator *(Float128 a, Float128 b) => new(a.Value * b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 operator /(Float128 a, Float128 b) => new(a.Value / b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 operator &(Float128 a, Float128 b) => new(a.Value & b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 operator |(Float128 a, Float128 b) => new(a.Value | b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 AndNot(Float128 a, Float128 b) => new(Vector128.AndNot(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 MultiplyAdd(Float128 a, Float128 b, Float128 c) => new(Vector128.MultiplyAddEstimate(a.Value, b.Value, c.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Accumulate(ref Float128 acc, Float128 a, Float128 b) => Unsafe.As<Float128, Vector128<float>>(ref acc) = Vector128.MultiplyAddEstimate(a.Value, b.Value, Unsafe.As<Float128, Vector128<float>>(ref acc));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AccumulateLoaded(ref Float128 acc, ref float source, nuint offset, Float128 x) => Unsafe.As<Float128, Vector128<float>>(ref acc) = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref source, offset), x.Value, Unsafe.As<Float128, Vector128<float>>(ref acc));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Abs(Float128 x) => new(Vector128.Abs(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 SquareRoot(Float128 x) => new(Vector128.Sqrt(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Min(Float128 a, Float128 b) => new(Vector128.Min(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Max(Float128 a, Float128 b) => new(Vector128.Max(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 MinNative(Float128 a, Float128 b) => new(Vector128.MinNative(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 MaxNative(Float128 a, Float128 b) => new(Vector128.MaxNative(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 GreaterThan(Float128 a, Float128 b) => new(Vector128.GreaterThan(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 GreaterThanOrEqual(Float128 a, Float128 b) => new(Vector128.GreaterThanOrEqual(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 LessThan(Float128 a, Float128 b) => new(Vector128.LessThan(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 ConditionalSelect(Float128 mask, Float128 a, Float128 b) => new(Vector128.ConditionalSelect(mask.Value, a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Float128 x) => Vector128.Sum(x.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddLaneSums(Float128 a0, Float128 a1, Float128 a2, Float128 a3, ref float y)
    {
        if (Sse3.IsSupported)
        {
            // hadd(hadd(a0, a1), hadd(a2, a3)) = [Σa0, Σa1, Σa2, Σa3]
            Vector128<float> h = Sse3.HorizontalAdd(Sse3.HorizontalAdd(a0.Value, a1.Value), Sse3.HorizontalAdd(a2.Value, a3.Value));
            (Vector128.LoadUnsafe(ref y) + h).StoreUnsafe(ref y);
        }
        else
        {
            y += Vector128.Sum(a0.Value);
            Unsafe.Add(ref y, 1) += Vector128.Sum(a1.Value);
            Unsafe.Add(ref y, 2) += Vector128.Sum(a2.Value);
            Unsafe.Add(ref y, 3) += Vector128.Sum(a3.Value);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 TailMask(int length)
    {
        int alreadyDone = Count - (length % Count);
        return new(Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create(alreadyDone)).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 PowerOfTwoFromRounded(Float128 t) =>
        new((Vector128.ShiftLeft(t.Value.AsInt32(), 23) + Vector128.Create(0x3F800000)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 LoadInt8(ref sbyte source, nuint offset)
    {
        // 4 bytes (one 32-bit load) sign-extended to 32-bit lanes (pmovsxbd), then converted exactly.
        int raw = Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref source, offset)));
        Vector128<sbyte> bytes = Vector128.CreateScalarUnsafe(raw).AsSByte();
        Vector128<int> wide = Sse41.IsSupported ? Sse41.ConvertToVector128Int32(bytes) : Vector128.WidenLower(Vector128.WidenLower(bytes));
        return new(Vector128.ConvertToSingle(wide));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 BFloat16FromLowHalves(Float128 pairs) => new(Vector128.ShiftLeft(pairs.Value.AsUInt32(), 16).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 BFloat16FromHighHalves(Float128 pairs) => new((pairs.Value.AsUInt32() & Vector128.Create(0xFFFF0000u)).AsSingle());
}
