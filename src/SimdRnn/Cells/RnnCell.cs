using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Cells;

/// <summary>The Elman cell's activation (the networks map their public <c>Nonlinearity</c> onto it).</summary>
internal enum RnnActivation
{
    /// <summary>h = tanh(a).</summary>
    Tanh,

    /// <summary>h = max(a, 0).</summary>
    Relu,
}

/// <summary>
/// The Elman cell on one batch row: <c>h = act(p + q)</c>, where <c>p = W_ih·x + b_ih + b_hh</c> (the input projection
/// with every bias folded in) and <c>q = W_hh·h_prev</c>. act is tanh or relu. Each pass picks its width once per call
/// (<see cref="VectorWidth.For"/>) and runs a kernel written once for every width (<see cref="Kernel{TVector}"/>).
/// </summary>
internal static class RnnCell
{
    /// <summary>h = act(p + q).</summary>
    public static void Forward(RnnActivation act, ReadOnlySpan<float> p, ReadOnlySpan<float> q, Span<float> h) =>
        ForwardAt(VectorWidth.For(h.Length), act, p, q, h);

    /// <summary><see cref="Forward"/> at <paramref name="width"/> (whose lanes must fit H).</summary>
    internal static void ForwardAt(Width width, RnnActivation act, ReadOnlySpan<float> p, ReadOnlySpan<float> q, Span<float> h)
    {
        var call = new ForwardCall(act, p, q, h);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>da = dh ⊙ act'(a), from the output h: tanh' = 1 − h², relu' = [h &gt; 0]. Any length (B·H rows at once).</summary>
    public static void Backward(RnnActivation act, ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da) =>
        BackwardAt(VectorWidth.For(h.Length), act, h, dh, da);

    /// <summary><see cref="Backward"/> at <paramref name="width"/> (whose lanes must fit the length).</summary>
    internal static void BackwardAt(Width width, RnnActivation act, ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da)
    {
        if (h.IsEmpty) return;
        var call = new BackwardCall(act, h, dh, da);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>
    /// The passes, written once for every width; lengths ≥ TVector.Count. Loops visit 0, Count, 2·Count, … and finish
    /// with one overlapping vector; no pass writes a span it reads, so a lane visited twice gets the same value.
    /// </summary>
    internal static class Kernel<TVector> where TVector : struct, IFloatVector<TVector>
    {
        public static void Forward(RnnActivation act, ReadOnlySpan<float> p, ReadOnlySpan<float> q, Span<float> h)
        {
            int n = h.Length;
            if (act == RnnActivation.Tanh)
            {
                // h = tanh(p + q)
                for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
                    VectorSpan<TVector>.Store(Activations.Lanes<TVector>.Tanh(VectorSpan<TVector>.Load(p, j) + VectorSpan<TVector>.Load(q, j)), h, j);
            }
            else
            {
                // h = max(p + q, 0) (IEEE maximum: NaN stays NaN, −0 gives +0)
                for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
                    VectorSpan<TVector>.Store(TVector.Max(VectorSpan<TVector>.Load(p, j) + VectorSpan<TVector>.Load(q, j), TVector.Zero), h, j);
            }
        }

        public static void Backward(RnnActivation act, ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da)
        {
            int n = h.Length;
            if (act == RnnActivation.Tanh)
            {
                // da = δ − h²·δ = δ ⊙ (1 − h²)
                for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
                {
                    var hv = VectorSpan<TVector>.Load(h, j);
                    var d = VectorSpan<TVector>.Load(dh, j);
                    VectorSpan<TVector>.Store(d - hv * hv * d, da, j);
                }
            }
            else
            {
                // da = h > 0 ? δ : 0
                for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
                {
                    var positive = TVector.GreaterThan(VectorSpan<TVector>.Load(h, j), TVector.Zero);
                    VectorSpan<TVector>.Store(VectorSpan<TVector>.Load(dh, j) & positive, da, j);
                }
            }
        }
    }

    private readonly ref struct ForwardCall(RnnActivation act, ReadOnlySpan<float> p, ReadOnlySpan<float> q, Span<float> h) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _p = p, _q = q;
        private readonly Span<float> _h = h;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.Forward(act, _p, _q, _h);
    }

    private readonly ref struct BackwardCall(RnnActivation act, ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _h = h, _dh = dh;
        private readonly Span<float> _da = da;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.Backward(act, _h, _dh, _da);
    }
}
