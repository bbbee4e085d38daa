using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Cells;

/// <summary>
/// The GRU cell on one batch row, gates in PyTorch's order r, z, n (each H ≥ 1 wide). <c>p</c> is the input projection
/// <c>W_ih·x + b_ih</c> with <c>b_hr</c>, <c>b_hz</c> folded into its r and z blocks; <c>q</c> is <c>W_hh·h_prev</c>;
/// <c>bhn</c> is <c>b_hn</c> (zeros without biases), which cannot be folded because r multiplies it. Each pass picks
/// its width once per call from H (<see cref="VectorWidth.For"/>) and runs a kernel written once for every width
/// (<see cref="Kernel{TVector}"/>).
/// </summary>
/// <remarks>
/// The history a training pass keeps per row is <c>[r | z | n | m]</c> (4H), with <c>m = W_hn·h + b_hn</c> for the
/// linear-before-reset form; the other form keeps <c>[r | z | n]</c> and the product <c>r ⊙ h_prev</c> elsewhere.
/// </remarks>
internal static class GruCell
{
    /// <summary>
    /// PyTorch's GRU (ONNX linear_before_reset = 1): r = σ(p_r + q_r), z = σ(p_z + q_z), m = q_n + b_hn,
    /// n = tanh(p_n + r ⊙ m), h = (1 − z) ⊙ n + z ⊙ h_prev = n + z ⊙ (h_prev − n). The gates go to
    /// <paramref name="cache"/> (<c>[r | z | n | m]</c>, 4H) when training, else to <paramref name="scratch"/> (≥ 4H).
    /// Two passes over H: r and z (two activations inlined per pass), then m, n and h.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> bhn, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> cache, Span<float> scratch) =>
        ForwardAt(VectorWidth.For(h.Length), p, q, bhn, hPrev, h, cache, scratch);

    /// <summary><see cref="Forward"/> at <paramref name="width"/> (whose lanes must fit H).</summary>
    internal static void ForwardAt(Width width, ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> bhn, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> cache, Span<float> scratch) =>
        ForwardRowsAt(width, 1, p, q, bhn, hPrev, h, cache, scratch);

    /// <summary>
    /// <see cref="Forward"/> for each of <paramref name="batch"/> rows (p and q [B, 3H], h_prev and h [B, H], cache
    /// [B, S] or empty), the width chosen once for all of them: row b's bits are those of <see cref="Forward"/> on it.
    /// </summary>
    public static void ForwardRows(int batch, ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> bhn, ReadOnlySpan<float> hPrev, Span<float> h,
        Span<float> cache, Span<float> scratch) =>
        ForwardRowsAt(VectorWidth.For(h.Length / batch), batch, p, q, bhn, hPrev, h, cache, scratch);

    /// <summary><see cref="ForwardRows"/> at <paramref name="width"/> (whose lanes must fit H); the gates of row b go to its 4H
    /// of <paramref name="cache"/> (training) or all to one block of <paramref name="scratch"/> (inference).</summary>
    private static void ForwardRowsAt(Width width, int batch, ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> bhn, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> cache, Span<float> scratch)
    {
        int n = h.Length / batch;
        var call = cache.IsEmpty
            ? new ForwardCall(batch, p, q, bhn, hPrev, h, scratch.Slice(0, 4 * n), 0)
            : new ForwardCall(batch, p, q, bhn, hPrev, h, cache, cache.Length / batch);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>
    /// Back-propagation of <see cref="Forward"/> given δ = dL/dh and the kept <c>[r | z | n | m]</c>:
    /// dn̂ = δ ⊙ (1 − z) ⊙ (1 − n²), dẑ = δ ⊙ (h_prev − n) ⊙ z(1 − z), dr̂ = dn̂ ⊙ m ⊙ r(1 − r);
    /// dp = [dr̂, dẑ, dn̂], dq = [dr̂, dẑ, dn̂ ⊙ r] (dq_n is also db_hn), and the direct part dh_prev = δ ⊙ z
    /// (the caller adds W_hhᵀ·dq).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> dh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dq, Span<float> dhPrev) =>
        BackwardAt(VectorWidth.For(dh.Length), dh, cache, hPrev, dp, dq, dhPrev);

    /// <summary><see cref="Backward"/> at <paramref name="width"/> (whose lanes must fit H).</summary>
    internal static void BackwardAt(Width width, ReadOnlySpan<float> dh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dq, Span<float> dhPrev)
    {
        var call = new BackwardCall(dh, cache, hPrev, dp, dq, dhPrev);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>
    /// The ONNX default form (linear_before_reset = 0), first half: r = σ(p_r + q_r), z = σ(p_z + q_z) into
    /// <paramref name="gates"/> (<c>[r | z]</c>, the kept history or scratch), and the product <c>rh = r ⊙ h_prev</c>
    /// that W_hn multiplies. <paramref name="q"/> holds only the r and z blocks (2H).
    /// </summary>
    public static void ResetGate(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> hPrev, Span<float> rh, Span<float> gates) =>
        ResetGateAt(VectorWidth.For(hPrev.Length), p, q, hPrev, rh, gates);

    /// <summary><see cref="ResetGate"/> at <paramref name="width"/> (whose lanes must fit H).</summary>
    internal static void ResetGateAt(Width width, ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> hPrev, Span<float> rh, Span<float> gates)
    {
        var call = new ResetGateCall(p, q, hPrev, rh, gates);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>
    /// The ONNX default form, second half: n = tanh(p_n + q_n + b_hn) with <c>q_n = W_hn·(r ⊙ h_prev)</c>, then
    /// h = n + z ⊙ (h_prev − n). <paramref name="z"/> is the z block computed by <see cref="ResetGate"/>;
    /// <paramref name="cacheN"/> receives n when training (else empty).
    /// </summary>
    public static void Candidate(ReadOnlySpan<float> p, ReadOnlySpan<float> qn, ReadOnlySpan<float> bhn, ReadOnlySpan<float> z, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> cacheN) =>
        CandidateAt(VectorWidth.For(h.Length), p, qn, bhn, z, hPrev, h, cacheN);

    /// <summary><see cref="Candidate"/> at <paramref name="width"/> (whose lanes must fit H).</summary>
    internal static void CandidateAt(Width width, ReadOnlySpan<float> p, ReadOnlySpan<float> qn, ReadOnlySpan<float> bhn, ReadOnlySpan<float> z, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> cacheN)
    {
        var call = new CandidateCall(p, qn, bhn, z, hPrev, h, cacheN);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>
    /// The ONNX default form's back-propagation, first half, given δ and the kept <c>[r | z | n]</c>:
    /// dn̂ = δ ⊙ (1 − z) ⊙ (1 − n²) (into dp_n and dq_n), dẑ = δ ⊙ (h_prev − n) ⊙ z(1 − z) (into dp_z and dq_z),
    /// and dh_prev = δ ⊙ z. The caller then forms d(rh) = W_hnᵀ·dq_n and calls <see cref="ResetGateBackward"/>.
    /// </summary>
    public static void CandidateBackward(ReadOnlySpan<float> dh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dqRz, Span<float> dqN, Span<float> dhPrev) =>
        CandidateBackwardAt(VectorWidth.For(dh.Length), dh, cache, hPrev, dp, dqRz, dqN, dhPrev);

    /// <summary><see cref="CandidateBackward"/> at <paramref name="width"/> (whose lanes must fit H).</summary>
    internal static void CandidateBackwardAt(Width width, ReadOnlySpan<float> dh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dqRz, Span<float> dqN, Span<float> dhPrev)
    {
        var call = new CandidateBackwardCall(dh, cache, hPrev, dp, dqRz, dqN, dhPrev);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>
    /// The ONNX default form's back-propagation, second half, given d(rh): dr̂ = d(rh) ⊙ h_prev ⊙ r(1 − r)
    /// (into dp_r and dq_r), and dh_prev += d(rh) ⊙ r (one fused multiply-add).
    /// </summary>
    public static void ResetGateBackward(ReadOnlySpan<float> drh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dqRz, Span<float> dhPrev) =>
        ResetGateBackwardAt(VectorWidth.For(drh.Length), drh, cache, hPrev, dp, dqRz, dhPrev);

    /// <summary><see cref="ResetGateBackward"/> at <paramref name="width"/> (whose lanes must fit H).</summary>
    internal static void ResetGateBackwardAt(Width width, ReadOnlySpan<float> drh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dqRz, Span<float> dhPrev)
    {
        var call = new ResetGateBackwardCall(drh, cache, hPrev, dp, dqRz, dhPrev);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>
    /// The passes, written once for every width; H ≥ TVector.Count. Loops visit 0, Count, 2·Count, … and finish with
    /// one overlapping vector; a loop that writes a span it does not read gives a lane visited twice the same value,
    /// and the one pass that updates a span in place (<see cref="ResetGateBackward"/>) computes its overlapping last
    /// vector before anything is stored.
    /// </summary>
    internal static class Kernel<TVector> where TVector : struct, IFloatVector<TVector>
    {
        /// <summary><see cref="GruCell.Forward"/> with the gate block <paramref name="g"/> (4H) already chosen.</summary>
        // Not inlined into the loop over rows (ForwardRows): there the JIT ran out of inlining budget and left the
        // activations' vector operators as calls, twice as slow a GRU batch (seen once the loop existed).
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static void Forward(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> bhn, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> g)
        {
            int n = h.Length;
            // r, z = σ(p + q): two activations per pass (as in ResetGate), which the JIT keeps in registers.
            for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
            {
                VectorSpan<TVector>.Store(Activations.Lanes<TVector>.Sigmoid(VectorSpan<TVector>.Load(p, j) + VectorSpan<TVector>.Load(q, j)), g, j);
                VectorSpan<TVector>.Store(Activations.Lanes<TVector>.Sigmoid(VectorSpan<TVector>.Load(p, n + j) + VectorSpan<TVector>.Load(q, n + j)), g, n + j);
            }
            // m = q_n + b_hn; n = tanh(r ⊙ m + p_n) (one fused multiply-add); h = z ⊙ (h_prev − n) + n (another)
            for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
            {
                var m = VectorSpan<TVector>.Load(q, 2 * n + j) + VectorSpan<TVector>.Load(bhn, j);
                VectorSpan<TVector>.Store(m, g, 3 * n + j);
                var c = Activations.Lanes<TVector>.Tanh(TVector.MultiplyAdd(VectorSpan<TVector>.Load(g, j), m, VectorSpan<TVector>.Load(p, 2 * n + j)));
                VectorSpan<TVector>.Store(c, g, 2 * n + j);
                VectorSpan<TVector>.Store(TVector.MultiplyAdd(VectorSpan<TVector>.Load(g, n + j), VectorSpan<TVector>.Load(hPrev, j) - c, c), h, j);
            }
        }

        public static void Backward(ReadOnlySpan<float> dh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dq, Span<float> dhPrev)
        {
            int n = dh.Length;
            var one = TVector.One;
            for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
            {
                var d = VectorSpan<TVector>.Load(dh, j);
                var r = VectorSpan<TVector>.Load(cache, j);
                var z = VectorSpan<TVector>.Load(cache, n + j);
                var c = VectorSpan<TVector>.Load(cache, 2 * n + j);
                var m = VectorSpan<TVector>.Load(cache, 3 * n + j);
                var dn = d * (one - z) * (one - c * c);
                var dz = d * (VectorSpan<TVector>.Load(hPrev, j) - c) * z * (one - z);
                var dr = dn * m * r * (one - r);
                VectorSpan<TVector>.Store(dr, dp, j);
                VectorSpan<TVector>.Store(dz, dp, n + j);
                VectorSpan<TVector>.Store(dn, dp, 2 * n + j);
                VectorSpan<TVector>.Store(dr, dq, j);
                VectorSpan<TVector>.Store(dz, dq, n + j);
                VectorSpan<TVector>.Store(dn * r, dq, 2 * n + j);
                VectorSpan<TVector>.Store(d * z, dhPrev, j);
            }
        }

        public static void ResetGate(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> hPrev, Span<float> rh, Span<float> gates)
        {
            int n = hPrev.Length;
            // r = σ(p_r + q_r), z = σ(p_z + q_z), rh = r ⊙ h_prev
            for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
            {
                var r = Activations.Lanes<TVector>.Sigmoid(VectorSpan<TVector>.Load(p, j) + VectorSpan<TVector>.Load(q, j));
                VectorSpan<TVector>.Store(r, gates, j);
                VectorSpan<TVector>.Store(Activations.Lanes<TVector>.Sigmoid(VectorSpan<TVector>.Load(p, n + j) + VectorSpan<TVector>.Load(q, n + j)), gates, n + j);
                VectorSpan<TVector>.Store(r * VectorSpan<TVector>.Load(hPrev, j), rh, j);
            }
        }

        public static void Candidate(ReadOnlySpan<float> p, ReadOnlySpan<float> qn, ReadOnlySpan<float> bhn, ReadOnlySpan<float> z, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> cacheN)
        {
            int n = h.Length;
            bool keep = !cacheN.IsEmpty;
            // n = tanh(p_n + q_n + b_hn); h = z ⊙ (h_prev − n) + n (one fused multiply-add)
            for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
            {
                var c = Activations.Lanes<TVector>.Tanh(VectorSpan<TVector>.Load(p, 2 * n + j) + VectorSpan<TVector>.Load(qn, j) + VectorSpan<TVector>.Load(bhn, j));
                VectorSpan<TVector>.Store(TVector.MultiplyAdd(VectorSpan<TVector>.Load(z, j), VectorSpan<TVector>.Load(hPrev, j) - c, c), h, j);
                if (keep) VectorSpan<TVector>.Store(c, cacheN, j);
            }
        }

        public static void CandidateBackward(ReadOnlySpan<float> dh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dqRz, Span<float> dqN, Span<float> dhPrev)
        {
            int n = dh.Length;
            var one = TVector.One;
            for (int j = 0; j >= 0; j = VectorSpan<TVector>.Next(j, n))
            {
                var d = VectorSpan<TVector>.Load(dh, j);
                var z = VectorSpan<TVector>.Load(cache, n + j);
                var c = VectorSpan<TVector>.Load(cache, 2 * n + j);
                var dn = d * (one - z) * (one - c * c);
                var dz = d * (VectorSpan<TVector>.Load(hPrev, j) - c) * z * (one - z);
                VectorSpan<TVector>.Store(dz, dp, n + j);
                VectorSpan<TVector>.Store(dn, dp, 2 * n + j);
                VectorSpan<TVector>.Store(dz, dqRz, n + j);
                VectorSpan<TVector>.Store(dn, dqN, j);
                VectorSpan<TVector>.Store(d * z, dhPrev, j);
            }
        }

        public static void ResetGateBackward(ReadOnlySpan<float> drh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dqRz, Span<float> dhPrev)
        {
            int n = drh.Length, count = TVector.Count;
            // dh_prev is updated in place, so the last, overlapping vector is computed from the inputs before any
            // store, and the loop stops short of it: each lane of dh_prev then gets d(rh)·r added exactly once.
            int last = n - count;
            Step(drh, cache, hPrev, dhPrev, last, out var drLast, out var dhLast);
            for (int j = 0; j < last; j += count)
            {
                Step(drh, cache, hPrev, dhPrev, j, out var dr, out var dhv);
                VectorSpan<TVector>.Store(dr, dp, j);
                VectorSpan<TVector>.Store(dr, dqRz, j);
                VectorSpan<TVector>.Store(dhv, dhPrev, j);
            }
            VectorSpan<TVector>.Store(drLast, dp, last);
            VectorSpan<TVector>.Store(drLast, dqRz, last);
            VectorSpan<TVector>.Store(dhLast, dhPrev, last);
        }

        /// <summary>dr̂ = d(rh) ⊙ h_prev ⊙ r(1 − r) and d(rh) ⊙ r + dh_prev at offset <paramref name="j"/>.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void Step(ReadOnlySpan<float> drh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> dhPrev, int j, out TVector dr, out TVector dhPrevNew)
        {
            var d = VectorSpan<TVector>.Load(drh, j);
            var r = VectorSpan<TVector>.Load(cache, j);
            dr = d * VectorSpan<TVector>.Load(hPrev, j) * r * (TVector.One - r);
            dhPrevNew = TVector.MultiplyAdd(d, r, VectorSpan<TVector>.Load(dhPrev, j));
        }
    }

    /// <summary>The forward pass of <paramref name="batch"/> rows; row b's gate block starts at b·<paramref name="gateStride"/> (0: one scratch block reused).</summary>
    private readonly ref struct ForwardCall(int batch, ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> bhn, ReadOnlySpan<float> hPrev, Span<float> h,
        Span<float> gates, int gateStride) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _p = p, _q = q, _bhn = bhn, _hPrev = hPrev;
        private readonly Span<float> _h = h, _gates = gates;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector>
        {
            int n = _h.Length / batch, gh = 3 * n;
            for (int b = 0; b < batch; b++)
                Kernel<TVector>.Forward(_p.Slice(b * gh, gh), _q.Slice(b * gh, gh), _bhn, _hPrev.Slice(b * n, n), _h.Slice(b * n, n), _gates.Slice(b * gateStride, 4 * n));
        }
    }

    private readonly ref struct BackwardCall(ReadOnlySpan<float> dh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dq, Span<float> dhPrev) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _dh = dh, _cache = cache, _hPrev = hPrev;
        private readonly Span<float> _dp = dp, _dq = dq, _dhPrev = dhPrev;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.Backward(_dh, _cache, _hPrev, _dp, _dq, _dhPrev);
    }

    private readonly ref struct ResetGateCall(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> hPrev, Span<float> rh, Span<float> gates) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _p = p, _q = q, _hPrev = hPrev;
        private readonly Span<float> _rh = rh, _gates = gates;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.ResetGate(_p, _q, _hPrev, _rh, _gates);
    }

    private readonly ref struct CandidateCall(ReadOnlySpan<float> p, ReadOnlySpan<float> qn, ReadOnlySpan<float> bhn, ReadOnlySpan<float> z, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> cacheN) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _p = p, _qn = qn, _bhn = bhn, _z = z, _hPrev = hPrev;
        private readonly Span<float> _h = h, _cacheN = cacheN;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.Candidate(_p, _qn, _bhn, _z, _hPrev, _h, _cacheN);
    }

    private readonly ref struct CandidateBackwardCall(ReadOnlySpan<float> dh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dqRz, Span<float> dqN, Span<float> dhPrev) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _dh = dh, _cache = cache, _hPrev = hPrev;
        private readonly Span<float> _dp = dp, _dqRz = dqRz, _dqN = dqN, _dhPrev = dhPrev;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.CandidateBackward(_dh, _cache, _hPrev, _dp, _dqRz, _dqN, _dhPrev);
    }

    private readonly ref struct ResetGateBackwardCall(ReadOnlySpan<float> drh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dqRz, Span<float> dhPrev) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _drh = drh, _cache = cache, _hPrev = hPrev;
        private readonly Span<float> _dp = dp, _dqRz = dqRz, _dhPrev = dhPrev;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.ResetGateBackward(_drh, _cache, _hPrev, _dp, _dqRz, _dhPrev);
    }
}
