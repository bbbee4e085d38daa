using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SimdRnn.Benchmarks;

/// <summary>
/// The hardware vector widths the machine benchmarks (<see cref="FmaPeakBenchmarks"/>, <see cref="ReadBandwidthBenchmarks"/>)
/// measure at: 128, 256 and 512 bits, each only where the runtime accelerates it. Written against
/// <see cref="Vector128{T}"/>/<see cref="Vector256{T}"/>/<see cref="Vector512{T}"/> directly, not through the library's
/// kernel trait, so the figures describe the machine rather than SimdRnn's code.
/// </summary>
public static class MachineVectors
{
    /// <summary>The accelerated widths in bits, narrowest first.</summary>
    public static IEnumerable<int> AcceleratedBits()
    {
        if (Vector128.IsHardwareAccelerated) yield return 128;
        if (Vector256.IsHardwareAccelerated) yield return 256;
        if (Vector512.IsHardwareAccelerated) yield return 512;
    }
}

/// <summary>The operations the machine benchmarks need, one implementation per hardware width.</summary>
internal interface IMachineVector<TSelf> where TSelf : struct, IMachineVector<TSelf>
{
    static abstract int Count { get; }
    static abstract TSelf Create(float value);
    static abstract TSelf Load(ref float source, nuint offset);
    static abstract TSelf Add(TSelf a, TSelf b);

    /// <summary>a·b + c, fused (one rounding).</summary>
    static abstract TSelf FusedMultiplyAdd(TSelf a, TSelf b, TSelf c);
    static abstract float Sum(TSelf x);
}

[StructLayout(LayoutKind.Sequential)]
internal readonly struct Machine128(Vector128<float> v) : IMachineVector<Machine128>
{
    private readonly Vector128<float> _v = v;
    public static int Count => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine128 Create(float value) => new(Vector128.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine128 Load(ref float source, nuint offset) => new(Vector128.LoadUnsafe(ref source, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine128 Add(Machine128 a, Machine128 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine128 FusedMultiplyAdd(Machine128 a, Machine128 b, Machine128 c) => new(Vector128.FusedMultiplyAdd(a._v, b._v, c._v));
    public static float Sum(Machine128 x) => Vector128.Sum(x._v);
}

[StructLayout(LayoutKind.Sequential)]
internal readonly struct Machine256(Vector256<float> v) : IMachineVector<Machine256>
{
    private readonly Vector256<float> _v = v;
    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine256 Create(float value) => new(Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine256 Load(ref float source, nuint offset) => new(Vector256.LoadUnsafe(ref source, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine256 Add(Machine256 a, Machine256 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine256 FusedMultiplyAdd(Machine256 a, Machine256 b, Machine256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));
    public static float Sum(Machine256 x) => Vector256.Sum(x._v);
}

[StructLayout(LayoutKind.Sequential)]
internal readonly struct Machine512(Vector512<float> v) : IMachineVector<Machine512>
{
    private readonly Vector512<float> _v = v;
    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine512 Create(float value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine512 Load(ref float source, nuint offset) => new(Vector512.LoadUnsafe(ref source, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine512 Add(Machine512 a, Machine512 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Machine512 FusedMultiplyAdd(Machine512 a, Machine512 b, Machine512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));
    public static float Sum(Machine512 x) => Vector512.Sum(x._v);
}
