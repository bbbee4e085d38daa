namespace SimdRnn.Tests.Support;

/// <summary>Tolerance checks that say where and by how much they fail.</summary>
public static class Compare
{
    /// <summary>Every element within <c>relative · |expected|</c> (element-wise relative error).</summary>
    public static string? ElementwiseRelative(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double relative)
    {
        if (actual.Length != expected.Length) return $"length {actual.Length} vs {expected.Length}";
        for (int k = 0; k < actual.Length; k++)
        {
            double error = Math.Abs(actual[k] - expected[k]);
            if (!(error <= relative * Math.Abs(expected[k])))
                return $"element {k}: got {actual[k]:R}, expected {expected[k]:R}, relative error {error / Math.Abs(expected[k]):E3} > {relative:E1}";
        }
        return null;
    }

    /// <summary>
    /// ‖actual − expected‖∞ ≤ relative · ‖expected‖∞ + floor: the error of a tensor measured against its own scale.
    /// (Element-wise relative error is meaningless for elements that cancel to near zero; the absolute
    /// <paramref name="floor"/> covers tensors that cancel as a whole, e.g. a one-element bias gradient summed over
    /// steps of opposite signs, whose float32 error scales with its terms, not with the sum.)
    /// </summary>
    public static string? NormRelative(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double relative, string name, double floor = 0)
    {
        if (actual.Length != expected.Length) return $"{name}: length {actual.Length} vs {expected.Length}";
        double scale = 0, worst = 0;
        int at = -1;
        for (int k = 0; k < expected.Length; k++) scale = Math.Max(scale, Math.Abs(expected[k]));
        for (int k = 0; k < actual.Length; k++)
        {
            double error = Math.Abs(actual[k] - expected[k]);
            if (!(error <= worst)) { worst = error; at = k; }
        }
        return worst <= relative * scale + floor
            ? null
            : $"{name}: element {at}: got {actual[at]:R}, expected {expected[at]:R}; max error {worst:E3} > {relative:E1} × max |expected| {scale:E3} + {floor:E2}";
    }
}
