using System.Numerics;
using System.Runtime.CompilerServices;

namespace SimdRnn.Kernels;

/// <summary>Helpers for finishing a span with one overlapping vector instead of a scalar loop.</summary>
internal static class VectorTail
{
    /// <summary>
    /// A lane mask for the last, overlapping vector of a span of <c>length</c> elements whose first
    /// <c>length − length % Count</c> elements were already processed: lanes that are new are all ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<int> NewLanes(int length)
    {
        int alreadyDone = Vector<float>.Count - (length % Vector<float>.Count);
        return Vector.GreaterThanOrEqual(Vector<int>.Indices, new Vector<int>(alreadyDone));
    }
}
