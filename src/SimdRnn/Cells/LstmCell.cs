using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Cells;

/// <summary>
/// The LSTM cell on one batch row, gates in PyTorch's order i, f, g, o (each H ≥ 1 wide). <c>p</c> is the input
/// projection <c>W_ih·x + b_ih + b_hh</c> and <c>q</c> is <c>W_hh·h_prev</c>. A training pass keeps
/// <c>[i | f | g | o | tanh c]</c> (5H). Each pass picks its width once per call from H (<see cref="VectorWidth.For"/>)
/// and runs a kernel written once for every width (<see cref="Kernel{TVector}"/>).
/// </summary>
internal static class LstmCell
{
    /// <summary>
    /// i = σ(p_i + q_i), f = σ(p_f + q_f), g = tanh(p_g + q_g), o = σ(p_o + q_o); c = f ⊙ c_prev + i ⊙ g;
    /// h = o ⊙ tanh(c). The gates go to <paramref name="cache"/> (<c>[i | f | g | o | tanh c]</c>, 5H) when training,
    /// else to <paramref name="scratch"/> (≥ 5H).
    /// </summary>
    /// <remarks>
    /// Three passes over H with at most two activations inlined in each (i and f; g and o; c, tanh c and h). Five in one
    /// loop exceed what the JIT keeps in registers (that loop ran 2.5× slower: 1.5 µs against 0.6 µs per stream at
    /// H = 128); the three passes run 1.02–1.03× faster than the whole-span activation passes they replace.
    /// </remarks>
    public static void Forward(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> h, Span<float> cache, Span<float> scratch) =>
        ForwardAt(VectorWidth.For(h.Length), p, q, cPrev, c, h, cache, scratch);

    /// <summary><see cref="Forward"/> at <paramref name="width"/> (whose lanes must fit H).</summary>
    internal static void ForwardAt(Width width, ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> h, Span<float> cache, Span<float> scratch) =>
        ForwardRowsAt(width, 1, p, q, cPrev, c, h, cache, scratch);

    /// <summary>
    /// <see cref="Forward"/> for each of <paramref name="batch"/> rows (p and q [B, 4H], the states [B, H], cache [B, 5H]
    /// or empty), the width chosen once for all of them: row b's bits are those of <see cref="Forward"/> on it.
    /// </summary>
    public static void ForwardRows(int batch, ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> h,
        Span<float> cache, Span<float> scratch) =>
        ForwardRowsAt(VectorWidth.For(h.Length / batch), batch, p, q, cPrev, c, h, cache, scratch);

    /// <summary><see cref="ForwardRows"/> at <paramref name="width"/> (whose lanes must fit H); the gates of row b go to its 5H
    /// of <paramref name="cache"/> (training) or all to one block of <paramref name="scratch"/> (inference).</summary>
    private static void ForwardRowsAt(Width width, int batch, ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> h, Span<float> cache, Span<float> scratch)
    {
        int n = h.Length / batch;
        var call = cache.IsEmpty
            ? new ForwardCall(batch, p, q, cPrev, c, h, scratch.Slice(0, 5 * n), 0)
            : new ForwardCall(batch, p, q, cPrev, c, h, cache, cache.Length / batch);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>
    /// Back-propagation given δ = dL/dh, γ = dL/dc from the step after, and the kept gates:
    /// dc = γ + δ ⊙ o ⊙ (1 − tanh²c); dî = dc ⊙ g ⊙ i(1 − i); df̂ = dc ⊙ c_prev ⊙ f(1 − f); dĝ = dc ⊙ i ⊙ (1 − g²);
    /// dô = δ ⊙ tanh c ⊙ o(1 − o); dp = dq = [dî, df̂, dĝ, dô]; dc_prev = dc ⊙ f.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> dh, ReadOnlySpan<float> dcNext, ReadOnlySpan<float> cache, ReadOnlySpan<float> cPrev, Span<float> dp, Span<float> dcPrev) =>
        BackwardAt(VectorWidth.For(dh.Length), dh, dcNext, cache, cPrev, dp, dcPrev);

    /// <summary><see cref="Backward"/> at <paramref name="width"/> (whose lanes must fit H).</summary>
    internal static void BackwardAt(Width width, ReadOnlySpan<float> dh, ReadOnlySpan<float> dcNext, ReadOnlySpan<float> cache, ReadOnlySpan<float> cPrev, Span<float> dp, Span<float> dcPrev)
    {
        var call = new BackwardCall(dh, dcNext, cache, cPrev, dp, dcPrev);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>
    /// The passes, written once for every width; H ≥ TVector.Count. Loops visit 0, Count, 2·Count, … and finish with
    /// one overlapping vector; no loop writes a span it reads, so a lane visited twice gets the same value.
    /// </summary>
    internal static class Kernel<TVector> where TVector : struct, IFloatVector<TVector>
    {
        /// <summary><see cref="LstmCell.Forward"/> with the gate block <paramref name="g"/> (5H) already chosen.</summary>
        // Not inlined into the loop over rows (ForwardRows): there the JIT ran out of inlining budget and left the
        // activations' vector operators as calls, twice as slow a GRU batch (seen once the loop existed).
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static void Forward(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> h, Span<float> g)
        {
            int n = h.Length;
            // i, f = σ(p + q)
            for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
            {
                VectorSpan<TVector>.Store(Activations.Lanes<TVector>.Sigmoid(VectorSpan<TVector>.Load(p, j) + VectorSpan<TVector>.Load(q, j)), g, j);
                VectorSpan<TVector>.Store(Activations.Lanes<TVector>.Sigmoid(VectorSpan<TVector>.Load(p, n + j) + VectorSpan<TVector>.Load(q, n + j)), g, n + j);
            }
            // g = tanh(p + q), o = σ(p + q)
            for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
            {
                VectorSpan<TVector>.Store(Activations.Lanes<TVector>.Tanh(VectorSpan<TVector>.Load(p, 2 * n + j) + VectorSpan<TVector>.Load(q, 2 * n + j)), g, 2 * n + j);
                VectorSpan<TVector>.Store(Activations.Lanes<TVector>.Sigmoid(VectorSpan<TVector>.Load(p, 3 * n + j) + VectorSpan<TVector>.Load(q, 3 * n + j)), g, 3 * n + j);
            }
            // c = f ⊙ c_prev + i ⊙ g (one fused multiply-add); h = o ⊙ tanh c
            for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
            {
                var ig = VectorSpan<TVector>.Load(g, j) * VectorSpan<TVector>.Load(g, 2 * n + j);
                var cj = TVector.MultiplyAdd(VectorSpan<TVector>.Load(g, n + j), VectorSpan<TVector>.Load(cPrev, j), ig);
                VectorSpan<TVector>.Store(cj, c, j);
                var tc = Activations.Lanes<TVector>.Tanh(cj);
                VectorSpan<TVector>.Store(tc, g, 4 * n + j);
                VectorSpan<TVector>.Store(VectorSpan<TVector>.Load(g, 3 * n + j) * tc, h, j);
            }
        }

        public static void Backward(ReadOnlySpan<float> dh, ReadOnlySpan<float> dcNext, ReadOnlySpan<float> cache, ReadOnlySpan<float> cPrev, Span<float> dp, Span<float> dcPrev)
        {
            int n = dh.Length;
            var one = TVector.One;
            for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
            {
                var d = VectorSpan<TVector>.Load(dh, j);
                var i = VectorSpan<TVector>.Load(cache, j);
                var f = VectorSpan<TVector>.Load(cache, n + j);
                var g = VectorSpan<TVector>.Load(cache, 2 * n + j);
                var o = VectorSpan<TVector>.Load(cache, 3 * n + j);
                var tc = VectorSpan<TVector>.Load(cache, 4 * n + j);
                var dc = VectorSpan<TVector>.Load(dcNext, j) + d * o * (one - tc * tc);
                VectorSpan<TVector>.Store(dc * g * i * (one - i), dp, j);
                VectorSpan<TVector>.Store(dc * VectorSpan<TVector>.Load(cPrev, j) * f * (one - f), dp, n + j);
                VectorSpan<TVector>.Store(dc * i * (one - g * g), dp, 2 * n + j);
                VectorSpan<TVector>.Store(d * tc * o * (one - o), dp, 3 * n + j);
                VectorSpan<TVector>.Store(dc * f, dcPrev, j);
            }
        }
    }

    /// <summary>The forward pass of <paramref name="batch"/> rows; row b's gate block starts at b·<paramref name="gateStride"/> (0: one scratch block reused).</summary>
    private readonly ref struct ForwardCall(int batch, ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> h,
        Span<float> gates, int gateStride) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _p = p, _q = q, _cPrev = cPrev;
        private readonly Span<float> _c = c, _h = h, _gates = gates;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector>
        {
            int n = _h.Length / batch, gh = 4 * n;
            for (int b = 0; b < batch; b++)
                Kernel<TVector>.Forward(_p.Slice(b * gh, gh), _q.Slice(b * gh, gh), _cPrev.Slice(b * n, n), _c.Slice(b * n, n), _h.Slice(b * n, n),
                    _gates.Slice(b * gateStride, 5 * n));
        }
    }

    private readonly ref struct BackwardCall(ReadOnlySpan<float> dh, ReadOnlySpan<float> dcNext, ReadOnlySpan<float> cache, ReadOnlySpan<float> cPrev, Span<float> dp, Span<float> dcPrev) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _dh = dh, _dcNext = dcNext, _cache = cache, _cPrev = cPrev;
        private readonly Span<float> _dp = dp, _dcPrev = dcPrev;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.Backward(_dh, _dcNext, _cache, _cPrev, _dp, _dcPrev);
    }
}
