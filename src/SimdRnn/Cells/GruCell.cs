using System.Numerics;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;
using static SimdRnn.Cells.Lanes;

namespace SimdRnn.Cells;

/// <summary>
/// The GRU cell on one batch row, gates in PyTorch's order r, z, n (each H wide). <c>p</c> is the input projection
/// <c>W_ih·x + b_ih</c> with <c>b_hr</c>, <c>b_hz</c> folded into its r and z blocks; <c>q</c> is <c>W_hh·h_prev</c>;
/// <c>bhn</c> is <c>b_hn</c> (zeros without biases), which cannot be folded because r multiplies it.
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
    /// The activations run as whole-span passes of the activation kernels (see <see cref="LstmCell.Forward"/>).
    /// </summary>
    public static void Forward(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> bhn, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> cache, Span<float> scratch)
    {
        int n = h.Length;
        if (!UseVectors(n)) { ScalarForward(p, q, bhn, hPrev, h, cache); return; }
        Span<float> g = cache.IsEmpty ? scratch.Slice(0, 4 * n) : cache.Slice(0, 4 * n);
        // r, z = σ(p + q)
        for (int j = 0; j >= 0; j = Next(j, 2 * n)) Store(Load(p, j) + Load(q, j), g, j);
        Activations.SigmoidUnchecked(g.Slice(0, 2 * n), g.Slice(0, 2 * n));
        // m = q_n + b_hn; n = tanh(p_n + r ⊙ m)
        for (int j = 0; j >= 0; j = Next(j, n))
        {
            var m = Load(q, 2 * n + j) + Load(bhn, j);
            Store(m, g, 3 * n + j);
            Store(Vector.MultiplyAddEstimate(Load(g, j), m, Load(p, 2 * n + j)), g, 2 * n + j);
        }
        Activations.TanhUnchecked(g.Slice(2 * n, n), g.Slice(2 * n, n));
        // h = n + z ⊙ (h_prev − n)
        for (int j = 0; j >= 0; j = Next(j, n))
        {
            var c = Load(g, 2 * n + j);
            Store(Vector.MultiplyAddEstimate(Load(g, n + j), Load(hPrev, j) - c, c), h, j);
        }
    }

    /// <summary>
    /// Back-propagation of <see cref="Forward"/> given δ = dL/dh and the kept <c>[r | z | n | m]</c>:
    /// dn̂ = δ ⊙ (1 − z) ⊙ (1 − n²), dẑ = δ ⊙ (h_prev − n) ⊙ z(1 − z), dr̂ = dn̂ ⊙ m ⊙ r(1 − r);
    /// dp = [dr̂, dẑ, dn̂], dq = [dr̂, dẑ, dn̂ ⊙ r] (dq_n is also db_hn), and the direct part dh_prev = δ ⊙ z
    /// (the caller adds W_hhᵀ·dq).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> dh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dq, Span<float> dhPrev)
    {
        int n = dh.Length;
        if (!UseVectors(n)) { ScalarBackward(dh, cache, hPrev, dp, dq, dhPrev); return; }
        var one = Vector<float>.One;
        for (int j = 0; j >= 0; j = Next(j, n))
        {
            var d = Load(dh, j);
            var r = Load(cache, j);
            var z = Load(cache, n + j);
            var c = Load(cache, 2 * n + j);
            var m = Load(cache, 3 * n + j);
            var dn = d * (one - z) * (one - c * c);
            var dz = d * (Load(hPrev, j) - c) * z * (one - z);
            var dr = dn * m * r * (one - r);
            Store(dr, dp, j);
            Store(dz, dp, n + j);
            Store(dn, dp, 2 * n + j);
            Store(dr, dq, j);
            Store(dz, dq, n + j);
            Store(dn * r, dq, 2 * n + j);
            Store(d * z, dhPrev, j);
        }
    }

    /// <summary>
    /// The ONNX default form (linear_before_reset = 0), first half: r = σ(p_r + q_r), z = σ(p_z + q_z) into
    /// <paramref name="gates"/> (<c>[r | z]</c>, the kept history or scratch), and the product <c>rh = r ⊙ h_prev</c>
    /// that W_hn multiplies. <paramref name="q"/> holds only the r and z blocks (2H).
    /// </summary>
    public static void ResetGate(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> hPrev, Span<float> rh, Span<float> gates)
    {
        int n = hPrev.Length;
        if (!UseVectors(n))
        {
            for (int j = 0; j < n; j++)
            {
                float r = Activations.Scalar.Sigmoid(p[j] + q[j]);
                gates[j] = r;
                gates[n + j] = Activations.Scalar.Sigmoid(p[n + j] + q[n + j]);
                rh[j] = r * hPrev[j];
            }
            return;
        }
        for (int j = 0; j >= 0; j = Next(j, n))
        {
            var r = Activations.Lanes<FloatVector>.Sigmoid(new(Load(p, j) + Load(q, j))).Value;
            Store(r, gates, j);
            Store(Activations.Lanes<FloatVector>.Sigmoid(new(Load(p, n + j) + Load(q, n + j))).Value, gates, n + j);
            Store(r * Load(hPrev, j), rh, j);
        }
    }

    /// <summary>
    /// The ONNX default form, second half: n = tanh(p_n + q_n + b_hn) with <c>q_n = W_hn·(r ⊙ h_prev)</c>, then
    /// h = n + z ⊙ (h_prev − n). <paramref name="z"/> is the z block computed by <see cref="ResetGate"/>.
    /// </summary>
    public static void Candidate(ReadOnlySpan<float> p, ReadOnlySpan<float> qn, ReadOnlySpan<float> bhn, ReadOnlySpan<float> z, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> cacheN)
    {
        int n = h.Length;
        bool keep = !cacheN.IsEmpty;
        if (!UseVectors(n))
        {
            for (int j = 0; j < n; j++)
            {
                float c = Activations.Scalar.Tanh(p[2 * n + j] + qn[j] + bhn[j]);
                h[j] = c + z[j] * (hPrev[j] - c);
                if (keep) cacheN[j] = c;
            }
            return;
        }
        for (int j = 0; j >= 0; j = Next(j, n))
        {
            var c = Activations.Lanes<FloatVector>.Tanh(new(Load(p, 2 * n + j) + Load(qn, j) + Load(bhn, j))).Value;
            Store(Vector.MultiplyAddEstimate(Load(z, j), Load(hPrev, j) - c, c), h, j);
            if (keep) Store(c, cacheN, j);
        }
    }

    /// <summary>
    /// The ONNX default form's back-propagation, first half, given δ and the kept <c>[r | z | n]</c>:
    /// dn̂ = δ ⊙ (1 − z) ⊙ (1 − n²) (into dp_n and dq_n), dẑ = δ ⊙ (h_prev − n) ⊙ z(1 − z) (into dp_z and dq_z),
    /// and dh_prev = δ ⊙ z. The caller then forms d(rh) = W_hnᵀ·dq_n and calls <see cref="ResetGateBackward"/>.
    /// </summary>
    public static void CandidateBackward(ReadOnlySpan<float> dh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dqRz, Span<float> dqN, Span<float> dhPrev)
    {
        int n = dh.Length;
        for (int j = 0; j < n; j++)
        {
            float d = dh[j], z = cache[n + j], c = cache[2 * n + j];
            float dn = d * (1 - z) * (1 - c * c);
            float dz = d * (hPrev[j] - c) * z * (1 - z);
            dp[n + j] = dz;
            dp[2 * n + j] = dn;
            dqRz[n + j] = dz;
            dqN[j] = dn;
            dhPrev[j] = d * z;
        }
    }

    /// <summary>
    /// The ONNX default form's back-propagation, second half, given d(rh): dr̂ = d(rh) ⊙ h_prev ⊙ r(1 − r)
    /// (into dp_r and dq_r), and dh_prev += d(rh) ⊙ r.
    /// </summary>
    public static void ResetGateBackward(ReadOnlySpan<float> drh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dqRz, Span<float> dhPrev)
    {
        for (int j = 0; j < drh.Length; j++)
        {
            float r = cache[j];
            float dr = drh[j] * hPrev[j] * r * (1 - r);
            dp[j] = dr;
            dqRz[j] = dr;
            dhPrev[j] += drh[j] * r;
        }
    }

    /// <summary>The scalar twin of <see cref="Forward"/>.</summary>
    public static void ScalarForward(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> bhn, ReadOnlySpan<float> hPrev, Span<float> h, Span<float> cache)
    {
        int n = h.Length;
        bool keep = !cache.IsEmpty;
        for (int j = 0; j < n; j++)
        {
            float r = Activations.Scalar.Sigmoid(p[j] + q[j]);
            float z = Activations.Scalar.Sigmoid(p[n + j] + q[n + j]);
            float m = q[2 * n + j] + bhn[j];
            float c = Activations.Scalar.Tanh(p[2 * n + j] + r * m);
            h[j] = c + z * (hPrev[j] - c);
            if (keep) { cache[j] = r; cache[n + j] = z; cache[2 * n + j] = c; cache[3 * n + j] = m; }
        }
    }

    /// <summary>The scalar twin of <see cref="Backward"/>.</summary>
    public static void ScalarBackward(ReadOnlySpan<float> dh, ReadOnlySpan<float> cache, ReadOnlySpan<float> hPrev, Span<float> dp, Span<float> dq, Span<float> dhPrev)
    {
        int n = dh.Length;
        for (int j = 0; j < n; j++)
        {
            float d = dh[j], r = cache[j], z = cache[n + j], c = cache[2 * n + j], m = cache[3 * n + j];
            float dn = d * (1 - z) * (1 - c * c);
            float dz = d * (hPrev[j] - c) * z * (1 - z);
            float dr = dn * m * r * (1 - r);
            dp[j] = dr; dp[n + j] = dz; dp[2 * n + j] = dn;
            dq[j] = dr; dq[n + j] = dz; dq[2 * n + j] = dn * r;
            dhPrev[j] = d * z;
        }
    }
}
