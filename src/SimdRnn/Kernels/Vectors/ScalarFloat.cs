using System.Runtime.CompilerServices;

namespace SimdRnn.Kernels.Vectors;

/// <summary>
/// One float: the width-1 "vector" that makes every kernel's scalar twin the same code as its vector paths. Masks
/// are all-ones or all-zeros bit patterns, bitwise operations act on the float's bits, and
/// <see cref="MultiplyAdd"/> is fused where the hardware has FMA, as on the wider widths.
/// </summary>
internal readonly struct ScalarFloat(float value) : IFloatVector<ScalarFloat>
{
    public readonly float Value = value;

    public static int Count => 1;
    public static bool IsHardwareAccelerated => true;
    public static ScalarFloat Zero => default;
    public static ScalarFloat One => new(1f);

    private static ScalarFloat FromBits(int bits) => new(BitConverter.Int32BitsToSingle(bits));
    private static int Bits(ScalarFloat x) => BitConverter.SingleToInt32Bits(x.Value);
    private static ScalarFloat Mask(bool condition) => FromBits(condition ? -1 : 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat Create(float value) => new(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat Load(ref float source, nuint offset) => new(Unsafe.Add(ref source, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ScalarFloat value, ref float destination, nuint offset) => Unsafe.Add(ref destination, offset) = value.Value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat operator +(ScalarFloat a, ScalarFloat b) => new(a.Value + b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat operator -(ScalarFloat a, ScalarFloat b) => new(a.Value - b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat operator *(ScalarFloat a, ScalarFloat b) => new(a.Value * b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat operator /(ScalarFloat a, ScalarFloat b) => new(a.Value / b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat operator &(ScalarFloat a, ScalarFloat b) => FromBits(Bits(a) & Bits(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat operator |(ScalarFloat a, ScalarFloat b) => FromBits(Bits(a) | Bits(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat AndNot(ScalarFloat a, ScalarFloat b) => FromBits(Bits(a) & ~Bits(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat MultiplyAdd(ScalarFloat a, ScalarFloat b, ScalarFloat c) => new(float.MultiplyAddEstimate(a.Value, b.Value, c.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Accumulate(ref ScalarFloat acc, ScalarFloat a, ScalarFloat b) => acc = new(float.MultiplyAddEstimate(a.Value, b.Value, acc.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AccumulateLoaded(ref ScalarFloat acc, ref float source, nuint offset, ScalarFloat x) => acc = new(float.MultiplyAddEstimate(Unsafe.Add(ref source, offset), x.Value, acc.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat Abs(ScalarFloat x) => new(MathF.Abs(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat SquareRoot(ScalarFloat x) => new(MathF.Sqrt(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat Min(ScalarFloat a, ScalarFloat b) => new(MathF.Min(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat Max(ScalarFloat a, ScalarFloat b) => new(MathF.Max(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat MinNative(ScalarFloat a, ScalarFloat b) => a.Value < b.Value ? a : b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat MaxNative(ScalarFloat a, ScalarFloat b) => a.Value > b.Value ? a : b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat GreaterThan(ScalarFloat a, ScalarFloat b) => Mask(a.Value > b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat GreaterThanOrEqual(ScalarFloat a, ScalarFloat b) => Mask(a.Value >= b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat LessThan(ScalarFloat a, ScalarFloat b) => Mask(a.Value < b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat ConditionalSelect(ScalarFloat mask, ScalarFloat a, ScalarFloat b) => Bits(mask) != 0 ? a : b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(ScalarFloat x) => x.Value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddLaneSums(ScalarFloat a0, ScalarFloat a1, ScalarFloat a2, ScalarFloat a3, ref float y)
    {
        y += a0.Value;
        Unsafe.Add(ref y, 1) += a1.Value;
        Unsafe.Add(ref y, 2) += a2.Value;
        Unsafe.Add(ref y, 3) += a3.Value;
    }

    /// <summary>At width 1 there is no overlap: the one lane is always new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ScalarFloat TailMask(int length) => FromBits(-1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarFloat PowerOfTwoFromRounded(ScalarFloat t) => FromBits((Bits(t) << 23) + 0x3F800000);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarFloat LoadInt8(ref sbyte source, nuint offset) => new(Unsafe.Add(ref source, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarFloat BFloat16FromLowHalves(ScalarFloat pairs) => FromBits(Bits(pairs) << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarFloat BFloat16FromHighHalves(ScalarFloat pairs) => FromBits(Bits(pairs) & unchecked((int)0xFFFF0000));
}
