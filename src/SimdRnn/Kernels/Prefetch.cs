using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace SimdRnn.Kernels;

/// <summary>
/// Software prefetch hints for the kernels whose reads the hardware prefetchers cannot follow (the GEMM's B sliver:
/// up to 256 short pieces of rows, each in another page). A prefetch is a hint: it never faults and changes no value,
/// so the address may lie anywhere; if the garbage collector moves the array between taking the address and the
/// hint, the only cost is a useless fetch. Where the CPU has no prefetch instruction .NET exposes (ARM64), it does
/// nothing.
/// </summary>
internal static class Prefetch
{
    /// <summary>
    /// Asks for the cache lines holding <paramref name="bytes"/> (≥ 1) bytes from <paramref name="location"/> in L2:
    /// one hint per 64 bytes from the start, and one for the line of the last byte (a piece that is not 64-byte
    /// aligned spans one line more).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void ToL2(ref float location, int bytes)
    {
        if (!Sse.IsSupported) return;
        byte* at = (byte*)Unsafe.AsPointer(ref location);
        for (int offset = 0; offset < bytes; offset += 64) Sse.Prefetch1(at + offset);
        Sse.Prefetch1(at + bytes - 1);
    }
}
