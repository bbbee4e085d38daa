using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SimdRnn;

/// <summary>
/// A buffer of unmanaged elements whose first element sits on a 64-byte boundary (one cache line, one 512-bit vector):
/// <see cref="AlignedFloats"/> for any element type, for the reduced-precision weights (bfloat16 bits as
/// <see cref="ushort"/>, int8 as <see cref="sbyte"/>) that kernels stream every step.
/// </summary>
/// <typeparam name="T">The element type; its size must divide 64.</typeparam>
internal sealed class AlignedBuffer<T> where T : unmanaged
{
    private const int Alignment = 64;
    private readonly T[] _array;
    private readonly int _offset;

    /// <summary>Allocates <paramref name="length"/> zeroed elements, aligned.</summary>
    public AlignedBuffer(int length)
        : this(length, slack: 0)
    {
    }

    /// <summary>
    /// Allocates <paramref name="length"/> zeroed elements, aligned, with at least <paramref name="slack"/> more
    /// elements allocated after them (readable through references past <see cref="Span"/>'s end, never part of it).
    /// </summary>
    public AlignedBuffer(int length, int slack)
    {
        int size = Unsafe.SizeOf<T>();
        if (Alignment % size != 0) throw new ArgumentException($"The element size {size} does not divide {Alignment}.", nameof(T));
        // The array lives on the pinned object heap and never moves, so an offset computed once stays aligned.
        _array = GC.AllocateArray<T>(length + slack + Alignment / size - 1, pinned: true);
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(_array, 0);
        // Array data is aligned to at least the element size (a power of two dividing 64), so the distance to the
        // next boundary is a whole number of elements.
        _offset = (int)((Alignment - address % Alignment) % Alignment) / size;
        Length = length;
        Slack = slack;
    }

    /// <summary>Allocates an aligned copy of <paramref name="values"/>.</summary>
    public AlignedBuffer(ReadOnlySpan<T> values)
        : this(values.Length) => values.CopyTo(Span);

    public int Length { get; }

    /// <summary>The elements allocated after <see cref="Length"/> that references past <see cref="Span"/> may read (at least).</summary>
    public int Slack { get; }

    public Span<T> Span => _array.AsSpan(_offset, Length);
}
