using System.Buffers;

namespace SimdRnn;

/// <summary>Scratch float buffers rented from <see cref="ArrayPool{T}.Shared"/>, grown on demand and returned on dispose.</summary>
internal static class PooledFloats
{
    /// <summary>Rents a buffer of at least <paramref name="length"/> floats unless the one held is long enough (its contents are not kept).</summary>
    public static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length >= length && buffer.Length > 0) return;
        if (buffer.Length > 0) ArrayPool<float>.Shared.Return(buffer);
        buffer = ArrayPool<float>.Shared.Rent(Math.Max(length, 1));
    }

    /// <summary>Returns a rented buffer (if any) to the pool and leaves the empty array in its place.</summary>
    public static void Return(ref float[] buffer)
    {
        if (buffer.Length > 0) ArrayPool<float>.Shared.Return(buffer);
        buffer = [];
    }
}
