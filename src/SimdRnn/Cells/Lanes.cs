using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SimdRnn.Cells;

/// <summary>
/// Loads and stores for the fused cell loops. A loop over H elements visits offsets 0, Count, 2·Count, … and finishes
/// with one overlapping vector at H − Count; the cells never write a span they read in the same pass, so visiting a
/// lane twice writes the same value twice.
/// </summary>
internal static class Lanes
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Load(ReadOnlySpan<float> span, int offset) =>
        Vector.LoadUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector<float> value, Span<float> span, int offset) =>
        value.StoreUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset);

    /// <summary>The next offset of a loop over <paramref name="length"/> elements, or −1 when done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Next(int offset, int length)
    {
        int last = length - Vector<float>.Count;
        if (offset >= last) return -1;
        return Math.Min(offset + Vector<float>.Count, last);
    }

    /// <summary>True where a fused loop over <paramref name="length"/> elements runs on vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool UseVectors(int length) => Vector.IsHardwareAccelerated && length >= Vector<float>.Count;
}
