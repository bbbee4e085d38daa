using System.Runtime.InteropServices;

namespace SimdRnn;

/// <summary>
/// A float buffer whose first element sits on a 64-byte boundary (one cache line, one 512-bit vector), for weights
/// that kernels stream every step. A matrix whose rows start on such boundaries is read without loads that straddle
/// two cache lines: the GEMV over a 384×192 matrix ran 10–15% faster from a 64-byte-aligned start than from the
/// 16-byte offset ordinary arrays get (measured 2026-11-27, docs/benchmarks-gemv.md).
/// </summary>
internal sealed class AlignedFloats
{
    private const int Alignment = 64;
    private readonly float[] _array;
    private readonly int _offset;

    /// <summary>Allocates <paramref name="length"/> zeroed floats, aligned.</summary>
    public AlignedFloats(int length)
    {
        // The array lives on the pinned object heap and never moves, so an offset computed once stays aligned.
        _array = GC.AllocateArray<float>(length + Alignment / sizeof(float) - 1, pinned: true);
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(_array, 0);
        // Array data is at least 4-byte aligned, so the distance to the next boundary is a whole number of floats.
        _offset = (int)((Alignment - address % Alignment) % Alignment) / sizeof(float);
        Length = length;
    }

    /// <summary>Allocates an aligned copy of <paramref name="values"/>.</summary>
    public AlignedFloats(ReadOnlySpan<float> values)
        : this(values.Length) => values.CopyTo(Span);

    public int Length { get; }

    public Span<float> Span => _array.AsSpan(_offset, Length);
}
