using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SimdRnn.Kernels.Vectors;

/// <summary>
/// <see cref="Vector{T}"/> of floats: the portable width, whatever the runtime gives it (8 lanes with AVX2, 4 with
/// SSE or NEON, 16 under <c>DOTNET_MaxVectorTBitWidth=512</c>).
/// </summary>
internal readonly struct FloatVector(Vector<float> value) : IFloatVector<FloatVector>
{
    public readonly Vector<float> Value = value;

    public static int Count => Vector<float>.Count;
    public static bool IsHardwareAccelerated => Vector.IsHardwareAccelerated;
    public static FloatVector Zero => default;
    public static FloatVector One => new(Vector<float>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector Create(float value) => new(new Vector<float>(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector Load(ref float source, nuint offset) => new(Vector.LoadUnsafe(ref source, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(FloatVector value, ref float destination, nuint offset) => value.Value.StoreUnsafe(ref destination, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector operator +(FloatVector a, FloatVector b) => new(a.Value + b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector operator -(FloatVector a, FloatVector b) => new(a.Value - b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector operator *(FloatVector a, FloatVector b) => new(a.Value * b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector operator /(FloatVector a, FloatVector b) => new(a.Value / b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector operator &(FloatVector a, FloatVector b) => new(a.Value & b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector operator |(FloatVector a, FloatVector b) => new(a.Value | b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector AndNot(FloatVector a, FloatVector b) => new(Vector.AndNot(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector MultiplyAdd(FloatVector a, FloatVector b, FloatVector c) => new(Vector.MultiplyAddEstimate(a.Value, b.Value, c.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Accumulate(ref FloatVector acc, FloatVector a, FloatVector b) => Unsafe.As<FloatVector, Vector<float>>(ref acc) = Vector.MultiplyAddEstimate(a.Value, b.Value, Unsafe.As<FloatVector, Vector<float>>(ref acc));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AccumulateLoaded(ref FloatVector acc, ref float source, nuint offset, FloatVector x) => Unsafe.As<FloatVector, Vector<float>>(ref acc) = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref source, offset), x.Value, Unsafe.As<FloatVector, Vector<float>>(ref acc));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector Abs(FloatVector x) => new(Vector.Abs(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector SquareRoot(FloatVector x) => new(Vector.SquareRoot(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector Min(FloatVector a, FloatVector b) => new(Vector.Min(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector Max(FloatVector a, FloatVector b) => new(Vector.Max(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector MinNative(FloatVector a, FloatVector b) => new(Vector.MinNative(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector MaxNative(FloatVector a, FloatVector b) => new(Vector.MaxNative(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector GreaterThan(FloatVector a, FloatVector b) => new(Vector.GreaterThan(a.Value, b.Value).As<int, float>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector GreaterThanOrEqual(FloatVector a, FloatVector b) => new(Vector.GreaterThanOrEqual(a.Value, b.Value).As<int, float>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector LessThan(FloatVector a, FloatVector b) => new(Vector.LessThan(a.Value, b.Value).As<int, float>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatVector ConditionalSelect(FloatVector mask, FloatVector a, FloatVector b) => new(Vector.ConditionalSelect(mask.Value, a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(FloatVector x) => Vector.Sum(x.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddLaneSums(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, ref float y)
    {
        if (Vector<float>.Count == 8 && Avx.IsSupported)
            Float256Sums.AddLaneSums(a0.Value.AsVector256(), a1.Value.AsVector256(), a2.Value.AsVector256(), a3.Value.AsVector256(), ref y);
        else if (Vector<float>.Count == 4)
            Float128.AddLaneSums(new(a0.Value.AsVector128()), new(a1.Value.AsVector128()), new(a2.Value.AsVector128()), new(a3.Value.AsVector128()), ref y);
        else if (Vector<float>.Count == 16)
            Float512.AddLaneSums(new(a0.Value.AsVector512()), new(a1.Value.AsVector512()), new(a2.Value.AsVector512()), new(a3.Value.AsVector512()), ref y);
        else
        {
            y += Vector.Sum(a0.Value);
            Unsafe.Add(ref y, 1) += Vector.Sum(a1.Value);
            Unsafe.Add(ref y, 2) += Vector.Sum(a2.Value);
            Unsafe.Add(ref y, 3) += Vector.Sum(a3.Value);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FloatVector TailMask(int length)
    {
        int alreadyDone = Count - (length % Count);
        return new(Vector.GreaterThanOrEqual(Vector<int>.Indices, new Vector<int>(alreadyDone)).As<int, float>());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FloatVector PowerOfTwoFromRounded(FloatVector t) =>
        new((Vector.ShiftLeft(t.Value.As<float, int>(), 23) + new Vector<int>(0x3F800000)).As<int, float>());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FloatVector LoadInt8(ref sbyte source, nuint offset)
    {
        if (Vector<float>.Count == 8)
        {
            // 8 bytes (one 64-bit load) sign-extended to 32-bit lanes (vpmovsxbd), then converted exactly.
            long raw = Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref source, offset)));
            Vector128<sbyte> bytes = Vector128.CreateScalarUnsafe(raw).AsSByte();
            Vector256<int> wide = Avx2.IsSupported ? Avx2.ConvertToVector256Int32(bytes) : Vector256.WidenLower(Vector256.WidenLower(bytes.ToVector256Unsafe()));
            return new(Vector256.ConvertToSingle(wide).AsVector());
        }
        if (Vector<float>.Count == 4) return new(Float128.LoadInt8(ref source, offset).Value.AsVector());
        if (Vector<float>.Count == 16) return new(Float512.LoadInt8(ref source, offset).Value.AsVector());
        return new(LoadLaneByLane(ref source, offset));
    }

    /// <summary>A width no runtime gives <see cref="Vector{T}"/> today: the lanes one at a time.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector<float> LoadLaneByLane(ref sbyte source, nuint offset)
    {
        Span<float> lanes = stackalloc float[Vector<float>.Count];
        for (int k = 0; k < lanes.Length; k++) lanes[k] = Unsafe.Add(ref source, offset + (nuint)k);
        return new Vector<float>(lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FloatVector BFloat16FromLowHalves(FloatVector pairs) => new(Vector.ShiftLeft(pairs.Value.As<float, uint>(), 16).As<uint, float>());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FloatVector BFloat16FromHighHalves(FloatVector pairs) => new((pairs.Value.As<float, uint>() & new Vector<uint>(0xFFFF0000u)).As<uint, float>());
}
