using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;

namespace SimdRnn.Benchmarks;

/// <summary>
/// The machine's ceiling for multiply-accumulates over stored weights with float32 arithmetic, per weight format, at
/// 512 and 256 bits (x86 with AVX2; 512 only where the runtime accelerates it): the same <see cref="Macs"/> weights,
/// L1-resident, each widened to float32 in registers and fused-multiply-added into eight accumulators, as the GEMV
/// kernels do, but with nothing else in the loop (no x loads, no horizontal sums, no tails):
/// <list type="bullet">
/// <item>fp32: one FMA with the weight as its memory operand;</item>
/// <item>bf16 (paired layout): one 32-bit word holds two weights; a shift and a mask widen it into two vectors, two FMAs;</item>
/// <item>int8: a sign-extending load to int32 (<c>vpmovsxbd</c>), a conversion to float (<c>vcvtdq2ps</c>), one FMA.</item>
/// <item>int8 × int16 (the <c>Int8WithInt16Activations</c> format, integer arithmetic): a sign-extending load to int16
/// (<c>vpmovsxbw</c>), a multiply-add of adjacent pairs with int16 activations into int32 (<c>vpmaddwd</c>), an add
/// (<c>vpaddd</c>): twice the weights per instruction of the float rows.</item>
/// </list>
/// Written against <see cref="Vector256{T}"/>/<see cref="Vector512{T}"/> directly, not through SimdRnn's kernels, so it
/// describes the machine: the floor a memory-light (L1/L2-resident or batched) product over each format cannot beat
/// with float32 arithmetic. GFLOP/s = 2·MACs / median (integer multiply-adds counted alike for the int8 × int16 row). One method per width and format on purpose: each must compile
/// to exactly the instruction sequence named above, and a generic wrapper struct (as in <see cref="IMachineVector{TSelf}"/>)
/// can cost a move per FMA and keep loads out of its memory operand (what the library's kernels had to work around).
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
[GflopsColumn]
public class WidenFmaPeakBenchmarks
{
    /// <summary>Weights per pass (8 KiB of fp32, 4 KiB of bf16, 2 KiB of int8: all in L1).</summary>
    public const int Weights = 2048;

    /// <summary>Passes per invocation.</summary>
    public const int Passes = 512;

    /// <summary>Multiply-accumulates per invocation.</summary>
    public const double Macs = (double)Weights * Passes;

    /// <summary>The vector width in bits.</summary>
    [ParamsSource(nameof(Widths))]
    public int Bits { get; set; }

    /// <summary>256, and 512 where accelerated.</summary>
    public static IEnumerable<int> Widths() => MachineVectors.AcceleratedBits().Where(b => b >= 256);

    // Pinned, and each kernel starts at the array's first 64-byte boundary (Aligned): a vector load that crosses a
    // cache line costs two, and a GC array's data is only 8-byte aligned, so unaligned arrays measured the fp32 row at
    // half its rate in some processes (58.7 against 108 GFLOP/s at 256 bits, 2026-11-30).
    private readonly float[] _fp32 = GC.AllocateArray<float>(Weights + 16, pinned: true);
    private readonly uint[] _bf16 = GC.AllocateArray<uint>(Weights / 2 + 16, pinned: true);
    private readonly sbyte[] _int8 = GC.AllocateArray<sbyte>(Weights + 16 + 64, pinned: true);
    private readonly short[] _int16 = GC.AllocateArray<short>(64 + 32, pinned: true); // 64 activations, reused


    /// <summary>The first element of <paramref name="array"/> on a 64-byte boundary (pinned arrays do not move).</summary>
    private static ref T Aligned<T>(T[] array) where T : unmanaged
    {
        ref T first = ref MemoryMarshal.GetArrayDataReference(array);
        nint misalignment = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0) & 63;
        return ref Unsafe.AddByteOffset(ref first, misalignment == 0 ? 0 : 64 - misalignment);
    }

    [GlobalSetup]
    public void Setup()
    {
        if (!Avx2.IsSupported || !Fma.IsSupported)
            throw new PlatformNotSupportedException("The widening FMA benchmark is written for x86 with AVX2 and FMA.");
        var random = new Random(5);
        for (int i = 0; i < _fp32.Length; i++) _fp32[i] = (float)(random.NextDouble() - 0.5) * 1e-3f;
        for (int i = 0; i < _bf16.Length; i++) _bf16[i] = (uint)random.Next() & 0x3A7F3A7Fu; // two small bf16 values per word
        for (int i = 0; i < _int8.Length; i++) _int8[i] = (sbyte)random.Next(-127, 128);
        for (int i = 0; i < _int16.Length; i++) _int16[i] = (short)random.Next(-32767, 32768);
    }

    [Benchmark(Baseline = true)]
    [FlopCount(2 * Macs)]
    public float Float32() => Bits == 512 ? Float32_512(_fp32) : Float32_256(_fp32);

    [Benchmark]
    [FlopCount(2 * Macs)]
    public float PairedBFloat16() => Bits == 512 ? BFloat16_512(_bf16) : BFloat16_256(_bf16);

    [Benchmark]
    [FlopCount(2 * Macs)]
    public float Int8() => Bits == 512 ? Int8_512(_int8) : Int8_256(_int8);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Float32_512(float[] w)
    {
        ref float r = ref Aligned(w);
        var x = Vector512.Create(1.0001f);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int pass = 0; pass < Passes; pass++)
            for (nuint i = 0; i < Weights; i += 128)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, i), x, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, i + 16), x, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, i + 32), x, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, i + 48), x, a3);
                a4 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, i + 64), x, a4);
                a5 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, i + 80), x, a5);
                a6 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, i + 96), x, a6);
                a7 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, i + 112), x, a7);
            }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Float32_256(float[] w)
    {
        ref float r = ref Aligned(w);
        var x = Vector256.Create(1.0001f);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int pass = 0; pass < Passes; pass++)
            for (nuint i = 0; i < Weights; i += 64)
            {
                a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, i), x, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, i + 8), x, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, i + 16), x, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, i + 24), x, a3);
                a4 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, i + 32), x, a4);
                a5 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, i + 40), x, a5);
                a6 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, i + 48), x, a6);
                a7 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, i + 56), x, a7);
            }
        return Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    // bf16 pair word w = (b_{c+1} << 16) | b_c: w << 16 is b_c widened, w & 0xFFFF0000 is b_{c+1} widened.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float BFloat16_512(uint[] w)
    {
        ref uint r = ref Aligned(w);
        var x0 = Vector512.Create(1.0001f);
        var x1 = Vector512.Create(0.9999f);
        var high = Vector512.Create(0xFFFF0000u);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int pass = 0; pass < Passes; pass++)
            for (nuint i = 0; i < Weights / 2; i += 64)
            {
                var w0 = Vector512.LoadUnsafe(ref r, i);
                var w1 = Vector512.LoadUnsafe(ref r, i + 16);
                var w2 = Vector512.LoadUnsafe(ref r, i + 32);
                var w3 = Vector512.LoadUnsafe(ref r, i + 48);
                a0 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(w0, 16).AsSingle(), x0, a0);
                a1 = Vector512.FusedMultiplyAdd((w0 & high).AsSingle(), x1, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(w1, 16).AsSingle(), x0, a2);
                a3 = Vector512.FusedMultiplyAdd((w1 & high).AsSingle(), x1, a3);
                a4 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(w2, 16).AsSingle(), x0, a4);
                a5 = Vector512.FusedMultiplyAdd((w2 & high).AsSingle(), x1, a5);
                a6 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(w3, 16).AsSingle(), x0, a6);
                a7 = Vector512.FusedMultiplyAdd((w3 & high).AsSingle(), x1, a7);
            }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float BFloat16_256(uint[] w)
    {
        ref uint r = ref Aligned(w);
        var x0 = Vector256.Create(1.0001f);
        var x1 = Vector256.Create(0.9999f);
        var high = Vector256.Create(0xFFFF0000u);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int pass = 0; pass < Passes; pass++)
            for (nuint i = 0; i < Weights / 2; i += 32)
            {
                var w0 = Vector256.LoadUnsafe(ref r, i);
                var w1 = Vector256.LoadUnsafe(ref r, i + 8);
                var w2 = Vector256.LoadUnsafe(ref r, i + 16);
                var w3 = Vector256.LoadUnsafe(ref r, i + 24);
                a0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(w0, 16).AsSingle(), x0, a0);
                a1 = Vector256.FusedMultiplyAdd((w0 & high).AsSingle(), x1, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(w1, 16).AsSingle(), x0, a2);
                a3 = Vector256.FusedMultiplyAdd((w1 & high).AsSingle(), x1, a3);
                a4 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(w2, 16).AsSingle(), x0, a4);
                a5 = Vector256.FusedMultiplyAdd((w2 & high).AsSingle(), x1, a5);
                a6 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(w3, 16).AsSingle(), x0, a6);
                a7 = Vector256.FusedMultiplyAdd((w3 & high).AsSingle(), x1, a7);
            }
        return Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    /// <summary>int8 weights times int16 activations summed exactly in int32 lanes (the integer format's inner loop).</summary>
    [Benchmark]
    [FlopCount(2 * Macs)]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public int Int8TimesInt16() => Bits == 512 ? Int8Int16_512(_int8, _int16) : Int8Int16_256(_int8, _int16);

    /// <summary>
    /// The same with each widened vector of weights used by four activation vectors (the multi-row kernel's inner loop:
    /// two weight rows × four inputs): four times the multiply-adds per weight, so <c>FlopCount</c> is 4·2·MACs.
    /// </summary>
    [Benchmark]
    [FlopCount(4 * 2 * Macs)]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public int Int8TimesInt16FourInputs() => Bits == 512 ? Int8Int16Four_512(_int8, _int16) : Int8Int16Four_256(_int8, _int16);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Int8Int16Four_512(sbyte[] w, short[] activations)
    {
        ref sbyte r = ref Aligned(w);
        ref short x = ref Aligned(activations);
        Vector512<short> x0 = Vector512.LoadUnsafe(ref x, 0), x1 = Vector512.LoadUnsafe(ref x, 32);
        Vector512<short> x2 = Vector512.LoadUnsafe(ref x, 16), x3 = Vector512.LoadUnsafe(ref x, 8);
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int pass = 0; pass < Passes; pass++)
            for (nuint i = 0; i < Weights; i += 64)
            {
                Vector512<short> w0 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, i));
                Vector512<short> w1 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, i + 32));
                a0 += Avx512BW.MultiplyAddAdjacent(w0, x0);
                a1 += Avx512BW.MultiplyAddAdjacent(w0, x1);
                a2 += Avx512BW.MultiplyAddAdjacent(w0, x2);
                a3 += Avx512BW.MultiplyAddAdjacent(w0, x3);
                a4 += Avx512BW.MultiplyAddAdjacent(w1, x0);
                a5 += Avx512BW.MultiplyAddAdjacent(w1, x1);
                a6 += Avx512BW.MultiplyAddAdjacent(w1, x2);
                a7 += Avx512BW.MultiplyAddAdjacent(w1, x3);
            }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Int8Int16Four_256(sbyte[] w, short[] activations)
    {
        ref sbyte r = ref Aligned(w);
        ref short x = ref Aligned(activations);
        Vector256<short> x0 = Vector256.LoadUnsafe(ref x, 0), x1 = Vector256.LoadUnsafe(ref x, 16);
        Vector256<short> x2 = Vector256.LoadUnsafe(ref x, 32), x3 = Vector256.LoadUnsafe(ref x, 48);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int pass = 0; pass < Passes; pass++)
            for (nuint i = 0; i < Weights; i += 32)
            {
                Vector256<short> w0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, i));
                Vector256<short> w1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, i + 16));
                a0 += Avx2.MultiplyAddAdjacent(w0, x0);
                a1 += Avx2.MultiplyAddAdjacent(w0, x1);
                a2 += Avx2.MultiplyAddAdjacent(w0, x2);
                a3 += Avx2.MultiplyAddAdjacent(w0, x3);
                a4 += Avx2.MultiplyAddAdjacent(w1, x0);
                a5 += Avx2.MultiplyAddAdjacent(w1, x1);
                a6 += Avx2.MultiplyAddAdjacent(w1, x2);
                a7 += Avx2.MultiplyAddAdjacent(w1, x3);
            }
        return Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Int8Int16_512(sbyte[] w, short[] activations)
    {
        ref sbyte r = ref Aligned(w);
        ref short x = ref Aligned(activations);
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int pass = 0; pass < Passes; pass++)
            for (nuint i = 0; i < Weights; i += 256)
            {
                a0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, i)), Vector512.LoadUnsafe(ref x, i & 63));
                a1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, i + 32)), Vector512.LoadUnsafe(ref x, (i + 32) & 63));
                a2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, i + 64)), Vector512.LoadUnsafe(ref x, i & 63));
                a3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, i + 96)), Vector512.LoadUnsafe(ref x, (i + 32) & 63));
                a4 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, i + 128)), Vector512.LoadUnsafe(ref x, i & 63));
                a5 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, i + 160)), Vector512.LoadUnsafe(ref x, (i + 32) & 63));
                a6 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, i + 192)), Vector512.LoadUnsafe(ref x, i & 63));
                a7 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, i + 224)), Vector512.LoadUnsafe(ref x, (i + 32) & 63));
            }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Int8Int16_256(sbyte[] w, short[] activations)
    {
        ref sbyte r = ref Aligned(w);
        ref short x = ref Aligned(activations);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int pass = 0; pass < Passes; pass++)
            for (nuint i = 0; i < Weights; i += 128)
            {
                a0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, i)), Vector256.LoadUnsafe(ref x, i & 63));
                a1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, i + 16)), Vector256.LoadUnsafe(ref x, (i + 16) & 63));
                a2 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, i + 32)), Vector256.LoadUnsafe(ref x, (i + 32) & 63));
                a3 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, i + 48)), Vector256.LoadUnsafe(ref x, (i + 48) & 63));
                a4 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, i + 64)), Vector256.LoadUnsafe(ref x, i & 63));
                a5 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, i + 80)), Vector256.LoadUnsafe(ref x, (i + 16) & 63));
                a6 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, i + 96)), Vector256.LoadUnsafe(ref x, (i + 32) & 63));
                a7 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, i + 112)), Vector256.LoadUnsafe(ref x, (i + 48) & 63));
            }
        return Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Int8_512(sbyte[] w)
    {
        ref sbyte r = ref Aligned(w);
        var x = Vector512.Create(1.0001f);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int pass = 0; pass < Passes; pass++)
            for (nuint i = 0; i < Weights; i += 128)
            {
                a0 = Vector512.FusedMultiplyAdd(Widen512(ref r, i), x, a0);
                a1 = Vector512.FusedMultiplyAdd(Widen512(ref r, i + 16), x, a1);
                a2 = Vector512.FusedMultiplyAdd(Widen512(ref r, i + 32), x, a2);
                a3 = Vector512.FusedMultiplyAdd(Widen512(ref r, i + 48), x, a3);
                a4 = Vector512.FusedMultiplyAdd(Widen512(ref r, i + 64), x, a4);
                a5 = Vector512.FusedMultiplyAdd(Widen512(ref r, i + 80), x, a5);
                a6 = Vector512.FusedMultiplyAdd(Widen512(ref r, i + 96), x, a6);
                a7 = Vector512.FusedMultiplyAdd(Widen512(ref r, i + 112), x, a7);
            }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Int8_256(sbyte[] w)
    {
        ref sbyte r = ref Aligned(w);
        var x = Vector256.Create(1.0001f);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int pass = 0; pass < Passes; pass++)
            for (nuint i = 0; i < Weights; i += 64)
            {
                a0 = Vector256.FusedMultiplyAdd(Widen256(ref r, i), x, a0);
                a1 = Vector256.FusedMultiplyAdd(Widen256(ref r, i + 8), x, a1);
                a2 = Vector256.FusedMultiplyAdd(Widen256(ref r, i + 16), x, a2);
                a3 = Vector256.FusedMultiplyAdd(Widen256(ref r, i + 24), x, a3);
                a4 = Vector256.FusedMultiplyAdd(Widen256(ref r, i + 32), x, a4);
                a5 = Vector256.FusedMultiplyAdd(Widen256(ref r, i + 40), x, a5);
                a6 = Vector256.FusedMultiplyAdd(Widen256(ref r, i + 48), x, a6);
                a7 = Vector256.FusedMultiplyAdd(Widen256(ref r, i + 56), x, a7);
            }
        return Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    /// <summary>16 int8 weights sign-extended to int32 and converted to float (vpmovsxbd zmm, [mem]; vcvtdq2ps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen512(ref sbyte r, nuint i) =>
        Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref r, i)));

    /// <summary>8 int8 weights sign-extended to int32 and converted to float (vpmovsxbd ymm, [mem]; vcvtdq2ps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen256(ref sbyte r, nuint i) =>
        Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref r, i)));
}
