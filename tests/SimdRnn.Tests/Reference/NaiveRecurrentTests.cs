using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Reference;

namespace SimdRnn.Tests.Reference;

/// <summary>
/// The naive recurrent reference checked against itself (exact BPTT against central finite differences over random
/// specs), against scalar cases worked by hand, and for its layout conventions (names, batch-first, directions).
/// </summary>
public class NaiveRecurrentTests
{
    /// <summary>
    /// A random problem: a spec, sizes, which of h0/c0 and the upstream gradients are given, and a seed from which
    /// weights (uniform ±0.5), x, h0, c0 and upstream gradients (uniform ±1) derive, so a failure reproduces from its printout.
    /// </summary>
    public sealed record Problem(NaiveSpec Spec, int T, int B, bool WithH0, bool WithC0, bool WithDy, bool WithDhN, bool WithDcN, bool WithDOut, int Seed)
    {
        public Dictionary<string, double[]> Parameters => RandomParameters(Spec, new Random(Seed));

        public double[] X => Uniform(T * B * Spec.InputSize, 1);
        public double[]? H0 => WithH0 ? Uniform(StateLength, 2) : null;
        public double[]? C0 => WithC0 && Spec.IsLstm ? Uniform(StateLength, 3) : null;
        public double[]? Dy => WithDy ? Uniform(T * B * Spec.Directions * Spec.HiddenSize, 4) : null;
        public double[]? DhN => WithDhN ? Uniform(StateLength, 5) : null;
        public double[]? DcN => WithDcN && Spec.IsLstm ? Uniform(StateLength, 6) : null;
        public double[]? DOut => WithDOut && Spec.HasHead ? Uniform(T * B * Spec.HeadSize, 7) : null;

        public override string ToString() =>
            $"Problem({Spec}, T={T}, B={B}, h0={WithH0}, c0={WithC0}, dy={WithDy}, dhN={WithDhN}, dcN={WithDcN}, dOut={WithDOut}, Seed={Seed})";

        private int StateLength => Spec.Layers * Spec.Directions * B * Spec.HiddenSize;

        public NaiveRecurrent Network() => new(Spec, Parameters);

        private double[] Uniform(int n, int stream)
        {
            var random = new Random(unchecked(Seed * 31 + stream));
            var v = new double[n];
            for (int k = 0; k < n; k++) v[k] = 2 * random.NextDouble() - 1;
            return v;
        }
    }

    public static Dictionary<string, double[]> RandomParameters(NaiveSpec spec, Random random, double bound = 0.5)
    {
        var parameters = new Dictionary<string, double[]>();
        foreach (var (name, shape) in spec.ExpectedParameters())
        {
            var v = new double[shape.Aggregate(1, (a, d) => a * d)];
            for (int k = 0; k < v.Length; k++) v[k] = bound * (2 * random.NextDouble() - 1);
            parameters[name] = v;
        }
        return parameters;
    }

    /// <summary>
    /// Random specs. A relu network without biases maps an all-zero layer input and state to a pre-activation of
    /// exactly 0 (zero h0, or a layer below whose units are all off), where relu has a kink and finite differences
    /// see half the slope; such specs are left out where finite differences are the judge (smooth = true).
    /// </summary>
    private static Gen<NaiveSpec> Specs(int maxLayers = 3, bool smooth = false) =>
        from cell in Gen.Elements("rnn", "gru", "lstm")
        from nonlinearity in cell == "rnn" ? Gen.Elements("tanh", "relu") : Gen.Constant("tanh")
        from bias in smooth && nonlinearity == "relu" ? Gen.Elements("pair", "single") : Gen.Elements("pair", "single", "none")
        from linearBeforeReset in Gen.Elements(true, false)
        from layers in Gen.Choose(1, maxLayers)
        from bidirectional in Gen.Elements(false, true)
        from head in Gen.Elements("none", "linear", "sigmoid")
        from headSize in Gen.Choose(1, 3)
        from batchFirst in Gen.Elements(false, true)
        from i in Gen.Choose(1, 6)
        from h in Gen.Choose(1, 6)
        select new NaiveSpec(cell, i, h, layers, bidirectional, nonlinearity, bias, linearBeforeReset,
            head == "none" ? 0 : headSize, head == "sigmoid" ? "sigmoid" : "none", batchFirst);

    private static Arbitrary<Problem> Problems(int maxLayers = 3, bool smooth = false) =>
        (from spec in Specs(maxLayers, smooth)
         from t in Gen.Choose(0, 4)
         from b in Gen.Choose(1, 3)
         from flags in Gen.ArrayOf(Gen.Elements(false, true), 6)
         from seed in Gen.Choose(0, int.MaxValue / 64)
         select new Problem(spec, t, b, flags[0], flags[1], flags[2], flags[3], flags[4], flags[5], seed)).ToArbitrary();

    [Property(MaxTest = 80)]
    public Property Exact_bptt_matches_central_finite_differences() =>
        // Central differences with ε = 1e-6: the truncation error is ε²·L'''/6 ≈ 1e-13 for these O(1) smooth
        // functions, and rounding in L (|L| ≲ 1e2, relative error ~1e-16) contributes ~1e-16·|L|/ε ≲ 1e-8; so
        // exact and numeric derivatives agree to 1e-6·max(1, |g|), while a wrong term in the chain rule shows up at
        // the scale of the gradient itself (≳ 1e-3 for these weights). The relu kink is crossed by a perturbation
        // if a pre-activation lies within ε·|∂a/∂θ| of 0. Exact zeros are excluded by the specs (see Specs); random
        // near-zeros are not rare over thousands of pre-activations per CI run (one at 8e-7 made CI fail, with
        // finite differences off by 2.5%), so problems whose relu margin is below 1e-4 (100·ε; the sensitivities
        // here are O(1..10)) are discarded rather than judged.
        Prop.ForAll(Problems(smooth: true), p =>
        {
            var net = p.Network();
            if (net.ReluMargin(p.X, p.T, p.B, p.H0, p.C0) < 1e-4) return;
            var exact = net.Gradients(p.X, p.T, p.B, p.H0, p.C0, p.Dy, p.DhN, p.DcN, p.DOut);
            var numeric = net.FiniteDifferences(p.X, p.T, p.B, p.H0, p.C0, p.Dy, p.DhN, p.DcN, p.DOut);
            Assert.Equal(numeric.Keys.Order(StringComparer.Ordinal), exact.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, n) in numeric)
            {
                double[] e = exact[name];
                Assert.Equal(n.Length, e.Length);
                for (int k = 0; k < n.Length; k++)
                    Assert.True(Math.Abs(e[k] - n[k]) <= 1e-6 * Math.Max(1, Math.Abs(n[k])),
                        $"{p}: {name}[{k}]: BPTT {e[k]:R}, finite differences {n[k]:R}");
            }
        });

    [Property(MaxTest = 60)]
    public Property Batch_first_is_the_transposed_layout() =>
        Prop.ForAll(Problems(maxLayers: 2), p =>
        {
            var seqFirst = p with { Spec = p.Spec with { BatchFirst = false } };
            var batchFirst = p with { Spec = p.Spec with { BatchFirst = true } };
            int T = p.T, B = p.B;
            double[] x = p.X;
            var a = seqFirst.Network().Forward(x, T, B, p.H0, p.C0);
            var b = batchFirst.Network().Forward(Transpose(x, T, B, p.Spec.InputSize), T, B, p.H0, p.C0);
            Assert.Equal(Transpose(a.Y, T, B, p.Spec.Directions * p.Spec.HiddenSize), b.Y);
            Assert.Equal(a.HN, b.HN);
            Assert.Equal(a.CN, b.CN);
            if (p.Spec.HasHead) Assert.Equal(Transpose(a.Out!, T, B, p.Spec.HeadSize), b.Out);
            else Assert.Null(b.Out);

            double[] ones = Enumerable.Repeat(1.0, a.Y.Length).ToArray();
            var ga = seqFirst.Network().Gradients(x, T, B, p.H0, p.C0, ones, null, null, null);
            var gb = batchFirst.Network().Gradients(Transpose(x, T, B, p.Spec.InputSize), T, B, p.H0, p.C0, ones, null, null, null);
            Assert.Equal(Transpose(ga["x"], T, B, p.Spec.InputSize), gb["x"]);
            Assert.Equal(ga["weight_hh_l0"], gb["weight_hh_l0"]);
        });

    [Property(MaxTest = 60)]
    public Property The_reverse_direction_is_the_forward_recurrence_on_the_reversed_sequence() =>
        // One bidirectional layer: y[t] = [h_fwd(t), h_rev(t)], where h_rev is a unidirectional network with the
        // _reverse weights run over x[T−1], …, x[0] from h0[1] (so h_rev(t) is its output at position T−1−t).
        Prop.ForAll(Problems(maxLayers: 1), p =>
        {
            var spec = p.Spec with { Bidirectional = true, HeadSize = 0, HeadActivation = "none", BatchFirst = false };
            var parameters = RandomParameters(spec, new Random(p.Seed));
            int T = p.T, B = p.B, H = spec.HiddenSize, I = spec.InputSize, state = B * H;
            var problem = p with { Spec = spec };
            double[] x = problem.X;
            double[]? h0 = problem.H0, c0 = problem.C0;
            var both = new NaiveRecurrent(spec, parameters).Forward(x, T, B, h0, c0);

            var uni = spec with { Bidirectional = false };
            Dictionary<string, double[]> Direction(string suffix) => uni.ExpectedParameters()
                .ToDictionary(e => e.Name, e => parameters[e.Name.Replace("_l0", "_l0" + suffix, StringComparison.Ordinal)]);
            double[]? Half(double[]? s, int d) => s?[(d * state)..((d + 1) * state)];
            var forward = new NaiveRecurrent(uni, Direction("")).Forward(x, T, B, Half(h0, 0), Half(c0, 0));
            var reverse = new NaiveRecurrent(uni, Direction("_reverse")).Forward(Reverse(x, T, B * I), T, B, Half(h0, 1), Half(c0, 1));
            var reversedOutput = Reverse(reverse.Y, T, B * H);
            for (int t = 0; t < T; t++)
            {
                for (int b = 0; b < B; b++)
                {
                    for (int j = 0; j < H; j++)
                    {
                        Assert.Equal(forward.Y[(t * B + b) * H + j], both.Y[(t * B + b) * 2 * H + j]);
                        Assert.Equal(reversedOutput[(t * B + b) * H + j], both.Y[(t * B + b) * 2 * H + H + j]);
                    }
                }
            }
            Assert.Equal(forward.HN.Concat(reverse.HN), both.HN);
            if (spec.IsLstm) Assert.Equal(forward.CN!.Concat(reverse.CN!), both.CN!);
        });

    [Fact]
    public void Parameter_names_and_shapes_follow_pytorchs_state_dict()
    {
        var spec = new NaiveSpec("lstm", 3, 5, 2, Bidirectional: true, HeadSize: 2);
        var names = spec.ExpectedParameters().Select(e => $"{e.Name}[{string.Join(",", e.Shape)}]");
        Assert.Equal(
        [
            "weight_ih_l0[20,3]", "weight_hh_l0[20,5]", "bias_ih_l0[20]", "bias_hh_l0[20]",
            "weight_ih_l0_reverse[20,3]", "weight_hh_l0_reverse[20,5]", "bias_ih_l0_reverse[20]", "bias_hh_l0_reverse[20]",
            "weight_ih_l1[20,10]", "weight_hh_l1[20,5]", "bias_ih_l1[20]", "bias_hh_l1[20]",
            "weight_ih_l1_reverse[20,10]", "weight_hh_l1_reverse[20,5]", "bias_ih_l1_reverse[20]", "bias_hh_l1_reverse[20]",
            "head.weight[2,10]", "head.bias[2]",
        ], names);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0"],
            new NaiveSpec("gru", 2, 4, 1, false, Bias: "single").ExpectedParameters().Select(e => e.Name));
        Assert.Equal(["weight_ih_l0", "weight_hh_l0"],
            new NaiveSpec("rnn", 2, 4, 1, false, Bias: "none").ExpectedParameters().Select(e => e.Name));
        Assert.Throws<ArgumentException>(() => new NaiveSpec("gru", 2, 4, 1, false, Nonlinearity: "relu").Validate());
        Assert.Throws<ArgumentException>(() => new NaiveRecurrent(new NaiveSpec("rnn", 1, 1, 1, false), new Dictionary<string, double[]>()));
    }

    // ------------------------------------------------------------------ one step, I = H = 1, worked by hand

    private const double Tight = 1e-14;

    private static double Sigmoid(double a) => 1 / (1 + Math.Exp(-a));

    [Fact]
    public void A_relu_pre_activation_near_the_kink_fools_finite_differences_not_bptt()
    {
        // The problem that once failed CI: one pre-activation of layer 2 (reverse) is 8.1e-7, so ε = 1e-6 crosses
        // the kink and the central difference is off by 2.5%; with ε = 1e-8 it agrees with exact BPTT to 1e-8.
        var spec = new NaiveSpec("rnn", 5, 6, 3, true, "relu", "single", false, 2, "sigmoid", false);
        var p = new Problem(spec, 1, 3, true, true, true, true, false, true, 6167005);
        var net = p.Network();
        double margin = net.ReluMargin(p.X, p.T, p.B, p.H0, p.C0);
        Assert.InRange(margin, 8e-7, 9e-7);
        double exact = net.Gradients(p.X, p.T, p.B, p.H0, p.C0, p.Dy, p.DhN, p.DcN, p.DOut)["weight_ih_l2_reverse"][61];
        double coarse = net.FiniteDifferences(p.X, p.T, p.B, p.H0, p.C0, p.Dy, p.DhN, p.DcN, p.DOut, 1e-6)["weight_ih_l2_reverse"][61];
        double fine = net.FiniteDifferences(p.X, p.T, p.B, p.H0, p.C0, p.Dy, p.DhN, p.DcN, p.DOut, 1e-8)["weight_ih_l2_reverse"][61];
        Assert.True(Math.Abs(coarse - exact) > 1e-2, $"coarse {coarse:R} exact {exact:R}");
        Assert.True(Math.Abs(fine - exact) <= 1e-7 * Math.Abs(exact), $"fine {fine:R} exact {exact:R}");
    }

    [Theory]
    [InlineData("tanh")]
    [InlineData("relu")]
    public void Rnn_one_step_by_hand(string nonlinearity)
    {
        var spec = new NaiveSpec("rnn", 1, 1, 1, false, nonlinearity);
        var net = new NaiveRecurrent(spec, new Dictionary<string, double[]>
        {
            ["weight_ih_l0"] = [0.5], ["weight_hh_l0"] = [-0.3], ["bias_ih_l0"] = [0.1], ["bias_hh_l0"] = [0.2],
        });
        // x = 2 (relu case: x = −2, so the unit is off), h0 = 0.4.
        double x = nonlinearity == "tanh" ? 2 : -2, h0 = 0.4;
        double a = 0.5 * x + 0.1 - 0.3 * h0 + 0.2; // 1.18 or −0.82
        double h = nonlinearity == "tanh" ? Math.Tanh(a) : Math.Max(0, a);
        var o = net.Forward([x], 1, 1, [h0], null);
        Assert.Equal(h, o.Y[0], Tight);
        Assert.Equal(h, o.HN[0], Tight);
        Assert.Null(o.CN);
        Assert.Null(o.Out);

        // L = y·1 + h_n·0.5, so dL/dh = 1.5 and da = 1.5·act'(a).
        double da = 1.5 * (nonlinearity == "tanh" ? 1 - h * h : 0);
        var g = net.Gradients([x], 1, 1, [h0], null, [1.0], [0.5], null, null);
        Assert.Equal(da * x, g["weight_ih_l0"][0], Tight);
        Assert.Equal(da * h0, g["weight_hh_l0"][0], Tight);
        Assert.Equal(da, g["bias_ih_l0"][0], Tight);
        Assert.Equal(da, g["bias_hh_l0"][0], Tight);
        Assert.Equal(da * 0.5, g["x"][0], Tight);
        Assert.Equal(da * -0.3, g["h0"][0], Tight);
        Assert.False(g.ContainsKey("c0"));
        Assert.Equal(h + 0.5 * h, net.Loss([x], 1, 1, [h0], null, [1.0], [0.5], null, null), Tight);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gru_one_step_by_hand(bool linearBeforeReset)
    {
        var spec = new NaiveSpec("gru", 1, 1, 1, false, LinearBeforeReset: linearBeforeReset);
        // Row blocks r, z, n.
        double wir = 0.3, wiz = -0.2, win = 0.6, whr = 0.1, whz = 0.4, whn = -0.5;
        double bir = 0.05, biz = -0.1, bin = 0.2, bhr = 0.0, bhz = 0.15, bhn = -0.25;
        var net = new NaiveRecurrent(spec, new Dictionary<string, double[]>
        {
            ["weight_ih_l0"] = [wir, wiz, win], ["weight_hh_l0"] = [whr, whz, whn],
            ["bias_ih_l0"] = [bir, biz, bin], ["bias_hh_l0"] = [bhr, bhz, bhn],
        });
        double x = 1.5, h0 = -0.4;
        double r = Sigmoid(wir * x + bir + whr * h0 + bhr);
        double z = Sigmoid(wiz * x + biz + whz * h0 + bhz);
        double q = whn * h0 + bhn; // the recurrent n term before the reset gate (linear before reset)
        double n = linearBeforeReset ? Math.Tanh(win * x + bin + r * q) : Math.Tanh(win * x + bin + whn * (r * h0) + bhn);
        double h = (1 - z) * n + z * h0;
        var o = net.Forward([x], 1, 1, [h0], null);
        Assert.Equal(h, o.Y[0], Tight);
        Assert.Equal(h, o.HN[0], Tight);

        // L = y, so dL/dh' = 1. The chain rule on paper:
        double dn = (1 - z) * (1 - n * n);            // ∂h'/∂a_n
        double dzA = (h0 - n) * z * (1 - z);          // ∂h'/∂a_z
        double drGate = linearBeforeReset ? q : whn * h0; // ∂a_n/∂r
        double drA = dn * drGate * r * (1 - r);       // ∂h'/∂a_r
        double dnDh = r * whn;                         // ∂a_n/∂h except through r (either form)
        double dh0 = z + dzA * whz + drA * whr + dn * dnDh;
        var g = net.Gradients([x], 1, 1, [h0], null, [1.0], null, null, null);
        Assert.Equal(new[] { drA * x, dzA * x, dn * x }, g["weight_ih_l0"], new Within(Tight));
        Assert.Equal(new[] { drA, dzA, dn }, g["bias_ih_l0"], new Within(Tight));
        Assert.Equal(new[] { drA * h0, dzA * h0, dn * r * h0 }, g["weight_hh_l0"], new Within(Tight));
        Assert.Equal(new[] { drA, dzA, linearBeforeReset ? dn * r : dn }, g["bias_hh_l0"], new Within(Tight));
        Assert.Equal(drA * wir + dzA * wiz + dn * win, g["x"][0], Tight);
        Assert.Equal(dh0, g["h0"][0], Tight);
    }

    [Fact]
    public void Lstm_one_step_by_hand()
    {
        var spec = new NaiveSpec("lstm", 1, 1, 1, false, HeadSize: 1, HeadActivation: "sigmoid");
        // Row blocks i, f, g, o.
        double[] wih = [0.2, -0.1, 0.4, 0.3], whh = [0.5, 0.2, -0.3, 0.1], bih = [0.1, 0.3, -0.2, 0.05], bhh = [-0.05, 0.1, 0.0, 0.2];
        double hw = 0.8, hb = -0.1;
        var net = new NaiveRecurrent(spec, new Dictionary<string, double[]>
        {
            ["weight_ih_l0"] = wih, ["weight_hh_l0"] = whh, ["bias_ih_l0"] = bih, ["bias_hh_l0"] = bhh,
            ["head.weight"] = [hw], ["head.bias"] = [hb],
        });
        double x = 1.0, h0 = 0.5, c0 = -0.2;
        double A(int k) => wih[k] * x + bih[k] + whh[k] * h0 + bhh[k];
        double i = Sigmoid(A(0)), f = Sigmoid(A(1)), gg = Math.Tanh(A(2)), o = Sigmoid(A(3));
        double c = f * c0 + i * gg;
        double h = o * Math.Tanh(c);
        double output = Sigmoid(hw * h + hb);
        var fwd = net.Forward([x], 1, 1, [h0], [c0]);
        Assert.Equal(h, fwd.Y[0], Tight);
        Assert.Equal(h, fwd.HN[0], Tight);
        Assert.Equal(c, fwd.CN![0], Tight);
        Assert.Equal(output, fwd.Out![0], Tight);

        // L = 0.7·c_n + 2·out: dL/dh = 2·σ'·hw, dL/dc = 0.7 + dL/dh·o·(1 − tanh²c).
        double dz = 2 * output * (1 - output);
        double dh = dz * hw;
        double tc = Math.Tanh(c);
        double dc = 0.7 + dh * o * (1 - tc * tc);
        double[] da = [dc * gg * i * (1 - i), dc * c0 * f * (1 - f), dc * i * (1 - gg * gg), dh * tc * o * (1 - o)];
        var g = net.Gradients([x], 1, 1, [h0], [c0], null, null, [0.7], [2.0]);
        Assert.Equal(da.Select(d => d * x), g["weight_ih_l0"], new Within(Tight));
        Assert.Equal(da.Select(d => d * h0), g["weight_hh_l0"], new Within(Tight));
        Assert.Equal(da, g["bias_ih_l0"], new Within(Tight));
        Assert.Equal(da, g["bias_hh_l0"], new Within(Tight));
        Assert.Equal(dz * h, g["head.weight"][0], Tight);
        Assert.Equal(dz, g["head.bias"][0], Tight);
        Assert.Equal(Enumerable.Range(0, 4).Sum(k => da[k] * wih[k]), g["x"][0], Tight);
        Assert.Equal(Enumerable.Range(0, 4).Sum(k => da[k] * whh[k]), g["h0"][0], Tight);
        Assert.Equal(dc * f, g["c0"][0], Tight);
    }

    private sealed class Within(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }

    // ------------------------------------------------------------------ layout helpers

    /// <summary>[T, B, w] ↔ [B, T, w].</summary>
    private static double[] Transpose(double[] a, int T, int B, int width)
    {
        var r = new double[a.Length];
        for (int t = 0; t < T; t++)
            for (int b = 0; b < B; b++)
                Array.Copy(a, (t * B + b) * width, r, (b * T + t) * width, width);
        return r;
    }

    /// <summary>Reverses the leading (time) axis of [T, rowWidth].</summary>
    private static double[] Reverse(double[] a, int T, int rowWidth)
    {
        var r = new double[a.Length];
        for (int t = 0; t < T; t++) Array.Copy(a, t * rowWidth, r, (T - 1 - t) * rowWidth, rowWidth);
        return r;
    }
}
