using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Tests.Support;

/// <summary>The kernel widths a test runs every path at: each width this machine accelerates, and the scalar one.</summary>
internal static class Widths
{
    /// <summary>Every supported width whose vector fits <paramref name="length"/> elements (the scalar width always).</summary>
    public static IEnumerable<Width> Fitting(int length) => VectorWidth.Supported.Where(w => VectorWidth.Lanes(w) <= Math.Max(1, length));
}
