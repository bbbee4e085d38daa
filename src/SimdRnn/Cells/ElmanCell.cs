using SimdRnn.Kernels;
using SimdRnn.Networks;

namespace SimdRnn.Cells;

/// <summary>The Elman cell with its sigmoid readout: one time step of the seed document's network.</summary>
internal static class ElmanCell
{
    /// <summary>
    /// Hidden step: <c>a = Wxh·x + bh + Whh·h_prev</c>, <c>h = tanh(a)</c>.
    /// <paramref name="h"/> may be the same span as <paramref name="hPrev"/>; <paramref name="a"/> is scratch (length H).
    /// </summary>
    public static void Hidden(ElmanLayout layout, ReadOnlySpan<float> p, ReadOnlySpan<float> x, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> a)
    {
        Gemv.MultiplyAdd(layout.Wxh(p), layout.H, layout.I, x, layout.Bh(p), a);
        Gemv.MultiplyAccumulate(layout.Whh(p), layout.H, layout.H, hPrev, a);
        Activations.Tanh(a, h);
    }

    /// <summary>Readout logits: <c>z = Why·h + by</c>.</summary>
    public static void Logits(ElmanLayout layout, ReadOnlySpan<float> p, ReadOnlySpan<float> h, Span<float> z)
        => Gemv.MultiplyAdd(layout.Why(p), layout.O, layout.H, h, layout.By(p), z);
}
