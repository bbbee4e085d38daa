using System.Numerics;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;
using SimdRnn.Networks;
using static SimdRnn.Cells.Lanes;

namespace SimdRnn.Cells;

/// <summary>
/// The Elman cell on one batch row: <c>h = act(p + q)</c>, where <c>p = W_ih·x + b_ih + b_hh</c> (the input projection
/// with every bias folded in) and <c>q = W_hh·h_prev</c>. act is tanh or relu.
/// </summary>
internal static class RnnCell
{
    /// <summary>h = act(p + q).</summary>
    public static void Forward(Nonlinearity act, ReadOnlySpan<float> p, ReadOnlySpan<float> q, Span<float> h)
    {
        int n = h.Length;
        if (!UseVectors(n)) { ScalarForward(act, p, q, h); return; }
        for (int j = 0; j >= 0; j = Next(j, n))
        {
            var a = Load(p, j) + Load(q, j);
            Store(act == Nonlinearity.Tanh ? Activations.Lanes<FloatVector>.Tanh(new(a)).Value : Vector.Max(a, Vector<float>.Zero), h, j);
        }
    }

    /// <summary>da = dh ⊙ act'(a), from the output h: tanh' = 1 − h², relu' = [h &gt; 0].</summary>
    public static void Backward(Nonlinearity act, ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da)
    {
        int n = h.Length;
        if (!UseVectors(n)) { ScalarBackward(act, h, dh, da); return; }
        for (int j = 0; j >= 0; j = Next(j, n))
        {
            var hv = Load(h, j);
            var g = Load(dh, j);
            Store(act == Nonlinearity.Tanh
                ? g - hv * hv * g
                : Vector.ConditionalSelect(Vector.GreaterThan(hv, Vector<float>.Zero), g, Vector<float>.Zero), da, j);
        }
    }

    /// <summary>The scalar twin of <see cref="Forward"/>.</summary>
    public static void ScalarForward(Nonlinearity act, ReadOnlySpan<float> p, ReadOnlySpan<float> q, Span<float> h)
    {
        for (int j = 0; j < h.Length; j++)
        {
            float a = p[j] + q[j];
            h[j] = act == Nonlinearity.Tanh ? Activations.Scalar.Tanh(a) : Math.Max(a, 0f);
        }
    }

    /// <summary>The scalar twin of <see cref="Backward"/>.</summary>
    public static void ScalarBackward(Nonlinearity act, ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da)
    {
        for (int j = 0; j < h.Length; j++)
            da[j] = act == Nonlinearity.Tanh ? dh[j] - h[j] * h[j] * dh[j] : h[j] > 0 ? dh[j] : 0f;
    }
}
