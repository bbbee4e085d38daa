using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Cells;
using SimdRnn.Kernels.Vectors;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Cells;

/// <summary>
/// Every cell pass (Elman, GRU in both forms, LSTM; forward and backward) at every width this machine has plus the
/// scalar one, for H in 1..67 (non-multiples of every width), against the cell math written here in double precision,
/// and bit for bit across the widths (the kernels are lane-wise, so every width must give the same bits).
/// </summary>
/// <remarks>
/// <para>Tolerance. The reference carries, next to each double value v, a bound e on how far any float32 evaluation of
/// the same formula can be from v (a running error analysis, Higham, Accuracy and Stability, §3.3), built from these
/// rules, with u = 2^-24 the float32 unit roundoff:</para>
/// <list type="bullet">
/// <item>a float input: e = 0;</item>
/// <item>a ± b: e = e_a + e_b plus the rounding u·(|v| + e); a·b: e = |a|·e_b + |b|·e_a + e_a·e_b plus the rounding;
/// a·b + c is bounded as the product rounded and then the sum rounded, which also covers a fused multiply-add (one
/// rounding fewer);</item>
/// <item>tanh and σ of an argument with bound e_a: the activation kernels' absolute bound 3e-7 (ActivationTests checks it
/// over every finite float) plus L·e_a, L the largest slope of the function on [|v| − e_a, |v| + e_a] (1 − tanh² and
/// σ(1 − σ) at the end nearer 0), since |f̃(ã) − f(a)| ≤ |f̃(ã) − f(ã)| + |f(ã) − f(a)|;</item>
/// <item>relu is 1-Lipschitz and exact: e = e_a; the relu derivative selects δ or 0 exactly: e = 0.</item>
/// </list>
/// <para>Each rounding also adds 2^-53·(|v| + e) for the double reference's own rounding and 2^-149 for a possible
/// gradual underflow, and the double tanh and exp add 1e-15. The formulas follow the cells' documented forms (for
/// example h = n + z ⊙ (h_prev − n)), whose evaluation order the kernels keep. On these inputs the bound averages
/// 3.1e-7 for a gate (the activation's 3e-7 plus its argument's rounding through a slope ≤ 1/4), 7e-7 for an LSTM h,
/// 2e-6 for a GRU h and 1e-7 to 6e-7 for the backward products; it reaches 6e-5 only where the ±100 inputs enter a
/// product. The observed errors stay below the bound by a factor of 0.2 to 0.7, except single roundings (m, relu h),
/// which may use all of it. An index or lane error is of the size of the values themselves, far above it (a doubled
/// update of an overlapping lane showed errors of 4e-4 to 0.4 against bounds near 5e-7).</para>
/// <para>Inputs: uniform in [−4, 4] (the hidden state and δ in [−2, 2]), with one in eight drawn from ±0, ±1e-30 and
/// values that saturate the activations (±9 … ±100). The backward passes take their caches from a real forward pass.
/// Outputs start as NaN, so a lane a pass fails to write fails the check, and the blocks a pass must leave alone are
/// checked to still hold NaN.</para>
/// </remarks>
[Trait("Category", "Kernels")]
public sealed class CellTests
{
    private const double U32 = 1.0 / (1 << 24);
    private const double U64 = 1.0 / (1L << 53);
    private const double ActivationError = 3e-7 + 1e-15;
    private static readonly double Underflow = Math.Pow(2, -149);

    // ---------------------------------------------------------------- the bounded reference arithmetic

    /// <summary>A double value and a bound on the distance of a float32 evaluation of the same formula from it.</summary>
    private readonly record struct B(double V, double E)
    {
        public static implicit operator B(float x) => new(x, 0);

        private static B Rounded(double v, double e) => new(v, e + (U32 + U64) * (Math.Abs(v) + e) + Underflow);

        public static B operator +(B a, B b) => Rounded(a.V + b.V, a.E + b.E);

        public static B operator -(B a, B b) => Rounded(a.V - b.V, a.E + b.E);

        public static B operator *(B a, B b) => Rounded(a.V * b.V, Math.Abs(a.V) * b.E + Math.Abs(b.V) * a.E + a.E * b.E);

        /// <summary>a·b + c, fused or not.</summary>
        public static B MultiplyAdd(B a, B b, B c) => a * b + c;

        public static B Tanh(B a)
        {
            double near = Math.Tanh(Math.Max(0, Math.Abs(a.V) - a.E));
            return new(Math.Tanh(a.V), ActivationError + (1 - near * near) * a.E);
        }

        public static B Sigmoid(B a)
        {
            double near = Logistic(Math.Max(0, Math.Abs(a.V) - a.E));
            return new(Logistic(a.V), ActivationError + near * (1 - near) * a.E);
        }

        public static B Relu(B a) => new(Math.Max(a.V, 0), a.E);

        private static double Logistic(double x) => 1 / (1 + Math.Exp(-x));
    }

    private static readonly B One = 1f;

    // ---------------------------------------------------------------- data

    private static readonly float[] Specials = [0f, -0f, 1e-30f, -1e-30f, 9f, -9f, 10f, -10f, 20f, -20f, 50f, -50f, 100f, -100f];

    private static float Value(Random random, double scale) =>
        random.Next(8) == 0 ? Specials[random.Next(Specials.Length)] : (float)((random.NextDouble() * 2 - 1) * scale);

    private static float[] Values(Random random, int length, double scale = 4)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = Value(random, scale);
        return values;
    }

    private static float[] Unset(int length)
    {
        var values = new float[length];
        Array.Fill(values, float.NaN);
        return values;
    }

    /// <summary>H in 1..67 with a seed for the values.</summary>
    private static Arbitrary<(int H, int Seed)> Cases() =>
        Gen.Choose(1, 67).SelectMany(h => Gen.Choose(0, int.MaxValue).Select(seed => (h, seed))).ToArbitrary();

    // ---------------------------------------------------------------- checks

    private static void Check(B expected, float got, string what, int index, Width width, int h)
    {
        double error = Math.Abs(got - expected.V);
        Assert.True(error <= expected.E,
            $"{what} at {width}, H = {h}, element {index}: got {got:R}, exact {expected.V:R}, error {error:E3} > bound {expected.E:E3}");
    }

    private static void CheckUnset(float[] values, int start, int length, string what, Width width, int h)
    {
        for (int i = start; i < start + length; i++)
            Assert.True(float.IsNaN(values[i]), $"{what} at {width}, H = {h}: element {i} was written");
    }

    /// <summary>Asserts <paramref name="got"/> holds the same bits as <paramref name="first"/> (the first width's result), or records it as the first.</summary>
    private static void SameBits(ref float[]? first, float[] got, string what, Width width, int h)
    {
        if (first is null) { first = (float[])got.Clone(); return; }
        for (int i = 0; i < got.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(first[i]) == BitConverter.SingleToInt32Bits(got[i]),
                $"{what} at {width}, H = {h}, element {i}: {got[i]:R} differs from the widest width's {first[i]:R}");
    }

    // ---------------------------------------------------------------- Elman

    private static void RnnForward(int h, int seed)
    {
        var random = new Random(seed);
        float[] p = Values(random, h), q = Values(random, h);
        foreach (var act in new[] { RnnActivation.Tanh, RnnActivation.Relu })
        {
            float[]? first = null;
            foreach (var width in Widths.Fitting(h))
            {
                var y = Unset(h);
                RnnCell.ForwardAt(width, act, p, q, y);
                for (int j = 0; j < h; j++)
                {
                    B a = (B)p[j] + q[j];
                    Check(act == RnnActivation.Tanh ? B.Tanh(a) : B.Relu(a), y[j], $"RNN {act} h", j, width, h);
                }
                SameBits(ref first, y, $"RNN {act} h", width, h);
            }
        }
    }

    private static void RnnBackward(int h, int seed)
    {
        var random = new Random(seed);
        float[] p = Values(random, h), q = Values(random, h), dh = Values(random, h, 2);
        foreach (var act in new[] { RnnActivation.Tanh, RnnActivation.Relu })
        {
            var y = new float[h];
            RnnCell.Forward(act, p, q, y);
            float[]? first = null;
            foreach (var width in Widths.Fitting(h))
            {
                var da = Unset(h);
                RnnCell.BackwardAt(width, act, y, dh, da);
                for (int j = 0; j < h; j++)
                {
                    // tanh: da = δ − h²·δ; relu: da = h > 0 ? δ : 0 (exact)
                    B expected = act == RnnActivation.Tanh ? (B)dh[j] - (B)y[j] * y[j] * dh[j] : new B(y[j] > 0 ? dh[j] : 0, 0);
                    Check(expected, da[j], $"RNN {act} da", j, width, h);
                }
                SameBits(ref first, da, $"RNN {act} da", width, h);
            }
        }
    }

    // ---------------------------------------------------------------- GRU, PyTorch form (linear before reset)

    private static void GruForward(int h, int seed)
    {
        var random = new Random(seed);
        float[] p = Values(random, 3 * h), q = Values(random, 3 * h), bhn = Values(random, h), hPrev = Values(random, h, 2);
        float[]? firstH = null, firstCache = null;
        foreach (var width in Widths.Fitting(h))
        {
            float[] y = Unset(h), cache = Unset(4 * h);
            GruCell.ForwardAt(width, p, q, bhn, hPrev, y, cache, default);
            for (int j = 0; j < h; j++)
            {
                B r = B.Sigmoid((B)p[j] + q[j]);
                B z = B.Sigmoid((B)p[h + j] + q[h + j]);
                B m = (B)q[2 * h + j] + bhn[j];
                B n = B.Tanh(B.MultiplyAdd(r, m, p[2 * h + j]));
                Check(r, cache[j], "GRU r", j, width, h);
                Check(z, cache[h + j], "GRU z", j, width, h);
                Check(n, cache[2 * h + j], "GRU n", j, width, h);
                Check(m, cache[3 * h + j], "GRU m", j, width, h);
                Check(B.MultiplyAdd(z, (B)hPrev[j] - n, n), y[j], "GRU h", j, width, h);
            }
            SameBits(ref firstH, y, "GRU h", width, h);
            SameBits(ref firstCache, cache, "GRU cache", width, h);

            // Inference: the gates go to scratch, h is the same.
            float[] inferred = Unset(h), scratch = Unset(4 * h + 3);
            GruCell.ForwardAt(width, p, q, bhn, hPrev, inferred, default, scratch);
            SameBits(ref firstH, inferred, "GRU h (inference)", width, h);
        }
    }

    private static void GruBackward(int h, int seed)
    {
        var random = new Random(seed);
        float[] p = Values(random, 3 * h), q = Values(random, 3 * h), bhn = Values(random, h), hPrev = Values(random, h, 2);
        float[] cache = new float[4 * h], y = new float[h], dh = Values(random, h, 2);
        GruCell.Forward(p, q, bhn, hPrev, y, cache, default);
        float[]? firstDp = null, firstDq = null, firstDh = null;
        foreach (var width in Widths.Fitting(h))
        {
            float[] dp = Unset(3 * h), dq = Unset(3 * h), dhPrev = Unset(h);
            GruCell.BackwardAt(width, dh, cache, hPrev, dp, dq, dhPrev);
            for (int j = 0; j < h; j++)
            {
                B d = dh[j], r = cache[j], z = cache[h + j], c = cache[2 * h + j], m = cache[3 * h + j];
                B dn = d * (One - z) * (One - c * c);
                B dz = d * ((B)hPrev[j] - c) * z * (One - z);
                B dr = dn * m * r * (One - r);
                Check(dr, dp[j], "GRU dp_r", j, width, h);
                Check(dz, dp[h + j], "GRU dp_z", j, width, h);
                Check(dn, dp[2 * h + j], "GRU dp_n", j, width, h);
                Check(dr, dq[j], "GRU dq_r", j, width, h);
                Check(dz, dq[h + j], "GRU dq_z", j, width, h);
                Check(dn * r, dq[2 * h + j], "GRU dq_n", j, width, h);
                Check(d * z, dhPrev[j], "GRU dh_prev", j, width, h);
            }
            SameBits(ref firstDp, dp, "GRU dp", width, h);
            SameBits(ref firstDq, dq, "GRU dq", width, h);
            SameBits(ref firstDh, dhPrev, "GRU dh_prev", width, h);
        }
    }

    // ---------------------------------------------------------------- GRU, ONNX default form (reset before the product)

    private static void GruResetGateAndCandidate(int h, int seed)
    {
        var random = new Random(seed);
        float[] p = Values(random, 3 * h), qrz = Values(random, 2 * h), qn = Values(random, h), bhn = Values(random, h), hPrev = Values(random, h, 2);
        float[]? firstGates = null, firstRh = null, firstH = null, firstN = null;
        foreach (var width in Widths.Fitting(h))
        {
            float[] cache = Unset(3 * h), rh = Unset(h), y = Unset(h);
            GruCell.ResetGateAt(width, p, qrz, hPrev, rh, cache.AsSpan(0, 2 * h));
            CheckUnset(cache, 2 * h, h, "GRU ResetGate cache_n", width, h);
            for (int j = 0; j < h; j++)
            {
                B r = B.Sigmoid((B)p[j] + qrz[j]);
                Check(r, cache[j], "GRU r", j, width, h);
                Check(B.Sigmoid((B)p[h + j] + qrz[h + j]), cache[h + j], "GRU z", j, width, h);
                Check(r * hPrev[j], rh[j], "GRU r ⊙ h_prev", j, width, h);
            }
            SameBits(ref firstGates, cache, "GRU [r | z]", width, h);
            SameBits(ref firstRh, rh, "GRU r ⊙ h_prev", width, h);

            // The candidate takes the kept z (a float input: its own error is checked above).
            GruCell.CandidateAt(width, p, qn, bhn, cache.AsSpan(h, h), hPrev, y, cache.AsSpan(2 * h, h));
            for (int j = 0; j < h; j++)
            {
                B n = B.Tanh((B)p[2 * h + j] + qn[j] + bhn[j]);
                Check(n, cache[2 * h + j], "GRU n", j, width, h);
                Check(B.MultiplyAdd(cache[h + j], (B)hPrev[j] - n, n), y[j], "GRU h", j, width, h);
            }
            SameBits(ref firstH, y, "GRU h", width, h);
            SameBits(ref firstN, cache, "GRU [r | z | n]", width, h);

            // Inference keeps no n; h is the same.
            var inferred = Unset(h);
            GruCell.CandidateAt(width, p, qn, bhn, cache.AsSpan(h, h), hPrev, inferred, default);
            SameBits(ref firstH, inferred, "GRU h (inference)", width, h);
        }
    }

    /// <summary>A kept <c>[r | z | n]</c> from a real forward pass of the ONNX default form.</summary>
    private static float[] GruResetCache(Random random, int h, float[] hPrev)
    {
        float[] p = Values(random, 3 * h), qrz = Values(random, 2 * h), qn = Values(random, h), bhn = Values(random, h);
        float[] cache = new float[3 * h], rh = new float[h], y = new float[h];
        GruCell.ResetGate(p, qrz, hPrev, rh, cache.AsSpan(0, 2 * h));
        GruCell.Candidate(p, qn, bhn, cache.AsSpan(h, h), hPrev, y, cache.AsSpan(2 * h, h));
        return cache;
    }

    private static void GruCandidateBackward(int h, int seed)
    {
        var random = new Random(seed);
        float[] hPrev = Values(random, h, 2), dh = Values(random, h, 2);
        float[] cache = GruResetCache(random, h, hPrev);
        float[]? firstDp = null, firstDqRz = null, firstDqN = null, firstDh = null;
        foreach (var width in Widths.Fitting(h))
        {
            float[] dp = Unset(3 * h), dqRz = Unset(2 * h), dqN = Unset(h), dhPrev = Unset(h);
            GruCell.CandidateBackwardAt(width, dh, cache, hPrev, dp, dqRz, dqN, dhPrev);
            CheckUnset(dp, 0, h, "GRU CandidateBackward dp_r", width, h);
            CheckUnset(dqRz, 0, h, "GRU CandidateBackward dq_r", width, h);
            for (int j = 0; j < h; j++)
            {
                B d = dh[j], z = cache[h + j], c = cache[2 * h + j];
                B dn = d * (One - z) * (One - c * c);
                B dz = d * ((B)hPrev[j] - c) * z * (One - z);
                Check(dz, dp[h + j], "GRU dp_z", j, width, h);
                Check(dn, dp[2 * h + j], "GRU dp_n", j, width, h);
                Check(dz, dqRz[h + j], "GRU dq_z", j, width, h);
                Check(dn, dqN[j], "GRU dq_n", j, width, h);
                Check(d * z, dhPrev[j], "GRU dh_prev", j, width, h);
            }
            SameBits(ref firstDp, dp, "GRU dp", width, h);
            SameBits(ref firstDqRz, dqRz, "GRU dq_rz", width, h);
            SameBits(ref firstDqN, dqN, "GRU dq_n", width, h);
            SameBits(ref firstDh, dhPrev, "GRU dh_prev", width, h);
        }
    }

    private static void GruResetGateBackward(int h, int seed)
    {
        var random = new Random(seed);
        float[] hPrev = Values(random, h, 2), drh = Values(random, h, 2), dhPrev0 = Values(random, h, 2);
        float[] cache = GruResetCache(random, h, hPrev);
        float[]? firstDp = null, firstDqRz = null, firstDh = null;
        foreach (var width in Widths.Fitting(h))
        {
            float[] dp = Unset(3 * h), dqRz = Unset(2 * h), dhPrev = (float[])dhPrev0.Clone();
            GruCell.ResetGateBackwardAt(width, drh, cache, hPrev, dp, dqRz, dhPrev);
            CheckUnset(dp, h, 2 * h, "GRU ResetGateBackward dp_zn", width, h);
            CheckUnset(dqRz, h, h, "GRU ResetGateBackward dq_z", width, h);
            for (int j = 0; j < h; j++)
            {
                B d = drh[j], r = cache[j];
                B dr = d * hPrev[j] * r * (One - r);
                Check(dr, dp[j], "GRU dp_r", j, width, h);
                Check(dr, dqRz[j], "GRU dq_r", j, width, h);
                // dh_prev += d(rh) ⊙ r: each lane exactly once, although the last vector overlaps.
                Check(B.MultiplyAdd(d, r, dhPrev0[j]), dhPrev[j], "GRU dh_prev", j, width, h);
            }
            SameBits(ref firstDp, dp, "GRU dp", width, h);
            SameBits(ref firstDqRz, dqRz, "GRU dq_rz", width, h);
            SameBits(ref firstDh, dhPrev, "GRU dh_prev", width, h);
        }
    }

    // ---------------------------------------------------------------- LSTM

    private static void LstmForward(int h, int seed)
    {
        var random = new Random(seed);
        float[] p = Values(random, 4 * h), q = Values(random, 4 * h), cPrev = Values(random, h);
        float[]? firstH = null, firstC = null, firstCache = null;
        foreach (var width in Widths.Fitting(h))
        {
            float[] y = Unset(h), c = Unset(h), cache = Unset(5 * h);
            LstmCell.ForwardAt(width, p, q, cPrev, c, y, cache, default);
            for (int j = 0; j < h; j++)
            {
                B i = B.Sigmoid((B)p[j] + q[j]);
                B f = B.Sigmoid((B)p[h + j] + q[h + j]);
                B g = B.Tanh((B)p[2 * h + j] + q[2 * h + j]);
                B o = B.Sigmoid((B)p[3 * h + j] + q[3 * h + j]);
                B cv = B.MultiplyAdd(f, cPrev[j], i * g);
                B tc = B.Tanh(cv);
                Check(i, cache[j], "LSTM i", j, width, h);
                Check(f, cache[h + j], "LSTM f", j, width, h);
                Check(g, cache[2 * h + j], "LSTM g", j, width, h);
                Check(o, cache[3 * h + j], "LSTM o", j, width, h);
                Check(tc, cache[4 * h + j], "LSTM tanh c", j, width, h);
                Check(cv, c[j], "LSTM c", j, width, h);
                Check(o * tc, y[j], "LSTM h", j, width, h);
            }
            SameBits(ref firstH, y, "LSTM h", width, h);
            SameBits(ref firstC, c, "LSTM c", width, h);
            SameBits(ref firstCache, cache, "LSTM cache", width, h);

            // Inference: the gates go to scratch, h and c are the same.
            float[] inferredH = Unset(h), inferredC = Unset(h), scratch = Unset(5 * h + 3);
            LstmCell.ForwardAt(width, p, q, cPrev, inferredC, inferredH, default, scratch);
            SameBits(ref firstH, inferredH, "LSTM h (inference)", width, h);
            SameBits(ref firstC, inferredC, "LSTM c (inference)", width, h);
        }
    }

    private static void LstmBackward(int h, int seed)
    {
        var random = new Random(seed);
        float[] p = Values(random, 4 * h), q = Values(random, 4 * h), cPrev = Values(random, h);
        float[] cache = new float[5 * h], c = new float[h], y = new float[h];
        LstmCell.Forward(p, q, cPrev, c, y, cache, default);
        float[] dh = Values(random, h, 2), dcNext = Values(random, h, 2);
        float[]? firstDp = null, firstDc = null;
        foreach (var width in Widths.Fitting(h))
        {
            float[] dp = Unset(4 * h), dcPrev = Unset(h);
            LstmCell.BackwardAt(width, dh, dcNext, cache, cPrev, dp, dcPrev);
            for (int j = 0; j < h; j++)
            {
                B d = dh[j], i = cache[j], f = cache[h + j], g = cache[2 * h + j], o = cache[3 * h + j], tc = cache[4 * h + j];
                B dc = (B)dcNext[j] + d * o * (One - tc * tc);
                Check(dc * g * i * (One - i), dp[j], "LSTM dp_i", j, width, h);
                Check(dc * cPrev[j] * f * (One - f), dp[h + j], "LSTM dp_f", j, width, h);
                Check(dc * i * (One - g * g), dp[2 * h + j], "LSTM dp_g", j, width, h);
                Check(d * tc * o * (One - o), dp[3 * h + j], "LSTM dp_o", j, width, h);
                Check(dc * f, dcPrev[j], "LSTM dc_prev", j, width, h);
            }
            SameBits(ref firstDp, dp, "LSTM dp", width, h);
            SameBits(ref firstDc, dcPrev, "LSTM dc_prev", width, h);
        }
    }

    // ---------------------------------------------------------------- properties

    [Property(MaxTest = 200)]
    public Property RnnForwardMatchesReference() => Prop.ForAll(Cases(), c => RnnForward(c.H, c.Seed));

    [Property(MaxTest = 200)]
    public Property RnnBackwardMatchesReference() => Prop.ForAll(Cases(), c => RnnBackward(c.H, c.Seed));

    [Property(MaxTest = 200)]
    public Property GruForwardMatchesReference() => Prop.ForAll(Cases(), c => GruForward(c.H, c.Seed));

    [Property(MaxTest = 200)]
    public Property GruBackwardMatchesReference() => Prop.ForAll(Cases(), c => GruBackward(c.H, c.Seed));

    [Property(MaxTest = 200)]
    public Property GruResetGateAndCandidateMatchReference() => Prop.ForAll(Cases(), c => GruResetGateAndCandidate(c.H, c.Seed));

    [Property(MaxTest = 200)]
    public Property GruCandidateBackwardMatchesReference() => Prop.ForAll(Cases(), c => GruCandidateBackward(c.H, c.Seed));

    [Property(MaxTest = 200)]
    public Property GruResetGateBackwardMatchesReference() => Prop.ForAll(Cases(), c => GruResetGateBackward(c.H, c.Seed));

    [Property(MaxTest = 200)]
    public Property LstmForwardMatchesReference() => Prop.ForAll(Cases(), c => LstmForward(c.H, c.Seed));

    [Property(MaxTest = 200)]
    public Property LstmBackwardMatchesReference() => Prop.ForAll(Cases(), c => LstmBackward(c.H, c.Seed));

    /// <summary>Every H from 1 to 67 once, so no size depends on the generator's luck.</summary>
    [Fact]
    public void EverySizeOnce()
    {
        for (int h = 1; h <= 67; h++)
        {
            int seed = 1000 + h;
            RnnForward(h, seed);
            RnnBackward(h, seed);
            GruForward(h, seed);
            GruBackward(h, seed);
            GruResetGateAndCandidate(h, seed);
            GruCandidateBackward(h, seed);
            GruResetGateBackward(h, seed);
            LstmForward(h, seed);
            LstmBackward(h, seed);
        }
    }

    /// <summary>
    /// The B-row forward passes (one width dispatch for all rows) give each row the bits of the one-row pass, with the
    /// gates kept per row (training) or in one reused scratch block (inference).
    /// </summary>
    [Property(MaxTest = 100)]
    public Property ForwardRowsGiveEachRowTheBitsOfItsOwnPass() =>
        Prop.ForAll(Cases(), c =>
        {
            int h = c.H, batch = 1 + c.Seed % 5;
            var random = new Random(c.Seed);
            float[] p = Values(random, batch * 4 * h), q = Values(random, batch * 4 * h), bhn = Values(random, h), hPrev = Values(random, batch * h, 2);
            foreach (bool keep in new[] { false, true })
            {
                // GRU: gates [r | z | n | m] (4H) per row.
                float[] h1 = new float[batch * h], hRows = new float[batch * h], g1 = new float[4 * h], gRows = keep ? new float[batch * 4 * h] : [];
                GruCell.ForwardRows(batch, p.AsSpan(0, batch * 3 * h), q.AsSpan(0, batch * 3 * h), bhn, hPrev, hRows, gRows, new float[5 * h]);
                for (int b = 0; b < batch; b++)
                {
                    GruCell.Forward(p.AsSpan(b * 3 * h, 3 * h), q.AsSpan(b * 3 * h, 3 * h), bhn, hPrev.AsSpan(b * h, h), h1.AsSpan(b * h, h), keep ? g1 : default, g1);
                    if (keep) Assert.True(gRows.AsSpan(b * 4 * h, 4 * h).SequenceEqual(g1), $"GRU gates, H = {h}, row {b}");
                }
                Assert.True(hRows.AsSpan().SequenceEqual(h1), $"GRU, H = {h}, B = {batch}, keep {keep}");

                // LSTM: gates [i | f | g | o | tanh c] (5H) per row.
                float[] c1 = new float[batch * h], cRows = new float[batch * h], l1 = new float[batch * h], lRows = new float[batch * h];
                float[] k1 = new float[5 * h], kRows = keep ? new float[batch * 5 * h] : [];
                LstmCell.ForwardRows(batch, p, q, hPrev, cRows, lRows, kRows, new float[5 * h]);
                for (int b = 0; b < batch; b++)
                {
                    LstmCell.Forward(p.AsSpan(b * 4 * h, 4 * h), q.AsSpan(b * 4 * h, 4 * h), hPrev.AsSpan(b * h, h), c1.AsSpan(b * h, h), l1.AsSpan(b * h, h), keep ? k1 : default, k1);
                    if (keep) Assert.True(kRows.AsSpan(b * 5 * h, 5 * h).SequenceEqual(k1), $"LSTM gates, H = {h}, row {b}");
                }
                Assert.True(lRows.AsSpan().SequenceEqual(l1) && cRows.AsSpan().SequenceEqual(c1), $"LSTM, H = {h}, B = {batch}, keep {keep}");
            }
        });

    /// <summary>
    /// The per-row forward kernels stay out of line: inlined into the loop over rows, the JIT ran out of inlining budget
    /// and left the activations' vector operators as calls (a GRU batch took 12.8 ms instead of 6.3). A guard, since no
    /// test of values can see it.
    /// </summary>
    [Fact]
    public void PerRowForwardKernelsAreNotInlined()
    {
        foreach (var kernel in new[] { typeof(GruCell.Kernel<Float512>), typeof(LstmCell.Kernel<Float512>) })
        {
            var forward = kernel.GetMethod("Forward")!;
            Assert.True(forward.MethodImplementationFlags.HasFlag(System.Reflection.MethodImplAttributes.NoInlining), $"{kernel}.Forward");
        }
    }

    /// <summary>The Elman backward pass runs over B·H elements at once; B = 0 leaves nothing to do.</summary>
    [Fact]
    public void RnnBackwardOfNoRowsDoesNothing()
    {
        foreach (var width in Widths.Fitting(0))
        {
            RnnCell.BackwardAt(width, RnnActivation.Tanh, default, default, default);
            RnnCell.BackwardAt(width, RnnActivation.Relu, default, default, default);
        }
        RnnCell.Backward(RnnActivation.Tanh, default, default, default);
    }
}
