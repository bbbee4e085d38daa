namespace SimdRnn.Reference;

/// <summary>The results of one forward pass, flat and row-major.</summary>
/// <param name="Y">The top layer's output, [T, B, D·H] ([B, T, D·H] if batch-first); at t, [h_fwd(t), h_rev(t)].</param>
/// <param name="HN">The final hidden state of every layer and direction, [L·D, B, H], index layer·D + direction.</param>
/// <param name="CN">The LSTM's final cell state, [L·D, B, H]; null for the other cells.</param>
/// <param name="Out">The readout at every step, [T, B, O] ([B, T, O] if batch-first); null without a head.</param>
public sealed record NaiveOutputs(double[] Y, double[] HN, double[]? CN, double[]? Out);

/// <summary>
/// PyTorch's nn.RNN / nn.GRU / nn.LSTM (any number of layers, one or two directions) with an optional per-step
/// linear readout, written straight from the equations in double precision with plain loops: the oracle for the
/// library's recurrent networks. Parameters are named and shaped exactly as PyTorch's state_dict entries (see
/// <see cref="NaiveSpec.ExpectedParameters"/>), each a row-major flat double[]; the dictionary is held, not copied.
/// <para>
/// Gradients are those of the scalar L = Σ y·dy + Σ h_n·dh_n + Σ c_n·dc_n + Σ out·dout, where the upstream
/// gradients dy, dh_n, dc_n, dout have the shapes of y, h_n, c_n, out, and any of them may be null (zero).
/// <see cref="Gradients"/> is exact back-propagation through time; <see cref="FiniteDifferences"/> is its check.
/// Both return a dictionary holding every parameter name plus "x", "h0" and (LSTM only) "c0"; "h0" and "c0" are
/// returned even when the initial states were passed as null (zeros).
/// </para>
/// <para>
/// Cells, with x the layer input and h, c the previous state (σ the logistic function):
/// rnn: h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu (relu'(0) taken as 0, as PyTorch does).
/// gru: r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) [or tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)], h' = (1 − z) ⊙ n + z ⊙ h.
/// lstm: i, f, g, o = σ, σ, tanh, σ of the blocks of W_ih x + b_ih + W_hh h + b_hh; c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c').
/// An absent bias is zero.
/// </para>
/// </summary>
public sealed class NaiveRecurrent
{
    public NaiveRecurrent(NaiveSpec spec, Dictionary<string, double[]> parameters)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(parameters);
        var expected = spec.ExpectedParameters();
        foreach (var (name, shape) in expected)
        {
            if (!parameters.TryGetValue(name, out var values)) throw new ArgumentException($"Missing parameter '{name}'.", nameof(parameters));
            if (values.Length != Product(shape))
                throw new ArgumentException($"Parameter '{name}' has {values.Length} values, not [{string.Join(", ", shape)}].", nameof(parameters));
        }
        if (parameters.Count != expected.Count)
        {
            var known = expected.Select(e => e.Name).ToHashSet();
            throw new ArgumentException($"Unexpected parameters: {string.Join(", ", parameters.Keys.Where(k => !known.Contains(k)))}.", nameof(parameters));
        }
        Spec = spec;
        Parameters = parameters;
    }

    public NaiveSpec Spec { get; }

    /// <summary>
    /// Applied in the forward pass to every vector before it multiplies a weight matrix (the layer input x for
    /// <c>weight_ih</c>; h, or r ⊙ h for the GRU without linear-before-reset, for <c>weight_hh</c>): a reduced-precision
    /// recipe's quantization of the activations (identity when null). The backward pass and the gradients do not use it.
    /// </summary>
    public Func<double[], double[]>? ProductInput { get; init; }

    private double[] ProductVector(double[] v) => ProductInput is null ? v : ProductInput(v);

    /// <summary>The parameters, by PyTorch name (held by reference: changing an array changes the network).</summary>
    public Dictionary<string, double[]> Parameters { get; }

    private int H => Spec.HiddenSize;
    private int D => Spec.Directions;
    private int L => Spec.Layers;

    /// <summary>Every parameter's name and shape in PyTorch's state_dict order.</summary>
    public IReadOnlyList<(string Name, int[] Shape)> ExpectedParameters() => Spec.ExpectedParameters();

    /// <summary>
    /// Runs the network on x ([T, B, I], or [B, T, I] if batch-first) from h0 and c0 ([L·D, B, H]; null = zeros;
    /// c0 must be null for cells other than the LSTM).
    /// </summary>
    public NaiveOutputs Forward(double[] x, int seqLen, int batch, double[]? h0 = null, double[]? c0 = null)
    {
        var trace = Run(x, seqLen, batch, h0, c0);
        return new NaiveOutputs(
            Flatten(trace.Y, seqLen, batch, D * H),
            trace.HN,
            Spec.IsLstm ? trace.CN : null,
            trace.Out is null ? null : Flatten(trace.Out, seqLen, batch, Spec.HeadSize));
    }

    /// <summary>L = Σ y·dy + Σ h_n·dh_n + Σ c_n·dc_n + Σ out·dout (null upstream gradients count as zero).</summary>
    public double Loss(double[] x, int seqLen, int batch, double[]? h0, double[]? c0,
        double[]? dy, double[]? dhN, double[]? dcN, double[]? dOut)
    {
        var o = Forward(x, seqLen, batch, h0, c0);
        CheckUpstream(o, dy, dhN, dcN, dOut);
        return Dot(o.Y, dy) + Dot(o.HN, dhN) + (o.CN is null ? 0 : Dot(o.CN, dcN)) + (o.Out is null ? 0 : Dot(o.Out, dOut));
    }

    /// <summary>
    /// The distance of the nearest relu pre-activation from the kink at 0 over a forward pass (+∞ for cells without
    /// relu). Finite differences with step ε are only meaningful where this margin is well above ε times the
    /// sensitivity of the pre-activations to one parameter. With <paramref name="ignoreExactZeros"/>, pre-activations
    /// that are exactly 0 (all their terms zero: a bias-free layer over zeros) are left out; a float32 computation of
    /// them is exactly 0 too.
    /// </summary>
    public double ReluMargin(double[] x, int seqLen, int batch, double[]? h0 = null, double[]? c0 = null, bool ignoreExactZeros = false)
    {
        if (Spec.Nonlinearity != "relu") return double.PositiveInfinity;
        double margin = double.PositiveInfinity;
        foreach (var layer in Run(x, seqLen, batch, h0, c0).Steps)
            foreach (var direction in layer)
                foreach (var sequence in direction)
                    foreach (var step in sequence)
                        foreach (double a in step.PreActivation)
                            if (!(ignoreExactZeros && a == 0)) margin = Math.Min(margin, Math.Abs(a));
        return margin;
    }

    /// <summary>Exact back-propagation through time: ∂L/∂(every parameter, x, h0, c0) for the L of <see cref="Loss"/>.</summary>
    public Dictionary<string, double[]> Gradients(double[] x, int seqLen, int batch, double[]? h0, double[]? c0,
        double[]? dy, double[]? dhN, double[]? dcN, double[]? dOut)
    {
        int T = seqLen, B = batch;
        var trace = Run(x, T, B, h0, c0);
        CheckUpstream(new NaiveOutputs(new double[T * B * D * H], trace.HN, Spec.IsLstm ? trace.CN : null,
            Spec.HasHead ? new double[T * B * Spec.HeadSize] : null), dy, dhN, dcN, dOut);

        var grads = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in ExpectedParameters()) grads[name] = new double[Product(shape)];

        // ∂L/∂y(t, b): the upstream dy plus, through the head, Wᵀ dz with dz = dout ⊙ act'(z).
        var dTop = Unflatten(dy, T, B, D * H);
        if (Spec.HasHead && dOut is not null)
        {
            int O = Spec.HeadSize, width = D * H;
            double[] w = Parameters["head.weight"], gw = grads["head.weight"], gb = grads["head.bias"];
            var dOutSeq = Unflatten(dOut, T, B, O);
            for (int t = 0; t < T; t++)
            {
                for (int b = 0; b < B; b++)
                {
                    for (int k = 0; k < O; k++)
                    {
                        double o = trace.Out![t][b][k];
                        double dz = dOutSeq[t][b][k] * (Spec.HeadActivation == "sigmoid" ? o * (1 - o) : 1.0);
                        gb[k] += dz;
                        for (int c = 0; c < width; c++)
                        {
                            gw[k * width + c] += dz * trace.Y[t][b][c];
                            dTop[t][b][c] += w[k * width + c] * dz;
                        }
                    }
                }
            }
        }

        var dh0 = new double[L * D * B * H];
        var dc0 = new double[L * D * B * H];
        var dAbove = dTop; // ∂L/∂(output of the current layer), [t][b][D·H]
        for (int layer = L - 1; layer >= 0; layer--)
        {
            var dInput = NewSequence(T, B, Spec.LayerInputSize(layer));
            for (int direction = 0; direction < D; direction++)
            {
                var w = Weights(Parameters, layer, direction);
                var g = Weights(grads, layer, direction);
                for (int b = 0; b < B; b++)
                {
                    int state = ((layer * D + direction) * B + b) * H;
                    double[] dh = Slice(dhN, state, H), dc = Slice(dcN, state, H);
                    // Undo the steps in the reverse of the order they ran: forward step s handled t = s (direction 0)
                    // or t = T−1−s (direction 1).
                    for (int s = T - 1; s >= 0; s--)
                    {
                        int t = direction == 0 ? s : T - 1 - s;
                        for (int j = 0; j < H; j++) dh[j] += dAbove[t][b][direction * H + j];
                        var step = trace.Steps[layer][direction][b][t];
                        double[] dx;
                        (dx, dh, dc) = Spec.Cell switch
                        {
                            "rnn" => RnnBackward(w, g, step, dh),
                            "gru" => GruBackward(w, g, step, dh),
                            _ => LstmBackward(w, g, step, dh, dc),
                        };
                        for (int c = 0; c < dx.Length; c++) dInput[t][b][c] += dx[c];
                    }
                    Array.Copy(dh, 0, dh0, state, H);
                    Array.Copy(dc, 0, dc0, state, H);
                }
            }
            dAbove = dInput;
        }

        grads["x"] = Flatten(dAbove, T, B, Spec.InputSize);
        grads["h0"] = dh0;
        if (Spec.IsLstm) grads["c0"] = dc0;
        return grads;
    }

    /// <summary>
    /// Central finite differences of <see cref="Loss"/>, (L(v + ε) − L(v − ε)) / 2ε, for every element of every
    /// parameter and of x, h0 and (LSTM) c0; the same keys as <see cref="Gradients"/>. Parameters are perturbed in
    /// place and restored.
    /// </summary>
    public Dictionary<string, double[]> FiniteDifferences(double[] x, int seqLen, int batch, double[]? h0, double[]? c0,
        double[]? dy, double[]? dhN, double[]? dcN, double[]? dOut, double epsilon = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(x);
        int stateLength = L * D * batch * H;
        double[] xs = (double[])x.Clone();
        double[] h0s = h0 is null ? new double[stateLength] : (double[])h0.Clone();
        double[]? c0s = Spec.IsLstm ? (c0 is null ? new double[stateLength] : (double[])c0.Clone()) : null;
        double Evaluate() => Loss(xs, seqLen, batch, h0s, c0s, dy, dhN, dcN, dOut);

        double[] Differentiate(double[] values)
        {
            var g = new double[values.Length];
            for (int k = 0; k < values.Length; k++)
            {
                double saved = values[k];
                values[k] = saved + epsilon;
                double plus = Evaluate();
                values[k] = saved - epsilon;
                double minus = Evaluate();
                values[k] = saved;
                g[k] = (plus - minus) / (2 * epsilon);
            }
            return g;
        }

        var grads = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (name, _) in ExpectedParameters()) grads[name] = Differentiate(Parameters[name]);
        grads["x"] = Differentiate(xs);
        grads["h0"] = Differentiate(h0s);
        if (c0s is not null) grads["c0"] = Differentiate(c0s);
        return grads;
    }

    // ---------------------------------------------------------------- forward

    /// <summary>What one cell step saw and computed, kept for back-propagation.</summary>
    private sealed class Step
    {
        public required double[] X { get; init; }      // the layer input at this time step
        public required double[] HPrev { get; init; }
        public double[] CPrev { get; init; } = [];     // LSTM
        public double[] Gates { get; init; } = [];     // activated gates, G·H: rnn h'; gru r, z, n; lstm i, f, g, o
        public double[] NTerm { get; init; } = [];     // GRU: W_hn h + b_hn (linear before reset) or r ⊙ h (otherwise)
        public double[] PreActivation { get; init; } = []; // rnn: W_ih x + b_ih + W_hh h + b_hh
        public required double[] H { get; init; }
        public double[] C { get; init; } = [];         // LSTM
    }

    /// <summary>A forward pass in [t][b][·] form, with every step kept: Steps[layer][direction][b][t].</summary>
    private sealed record Trace(double[][][] Y, double[] HN, double[] CN, double[][][]? Out, Step[][][][] Steps);

    private Trace Run(double[] x, int seqLen, int batch, double[]? h0, double[]? c0)
    {
        ArgumentNullException.ThrowIfNull(x);
        int T = seqLen, B = batch;
        if (T < 0 || B < 1) throw new ArgumentException("Need seqLen ≥ 0 and batch ≥ 1.");
        if (x.Length != T * B * Spec.InputSize) throw new ArgumentException($"x has {x.Length} values, not T·B·I = {T * B * Spec.InputSize}.", nameof(x));
        int stateLength = L * D * B * H;
        if (h0 is not null && h0.Length != stateLength) throw new ArgumentException($"h0 must have L·D·B·H = {stateLength} values.", nameof(h0));
        if (c0 is not null && !Spec.IsLstm) throw new ArgumentException("Only the LSTM has a cell state.", nameof(c0));
        if (c0 is not null && c0.Length != stateLength) throw new ArgumentException($"c0 must have L·D·B·H = {stateLength} values.", nameof(c0));

        var hN = new double[stateLength];
        var cN = new double[stateLength];
        var steps = new Step[L][][][];
        var input = Unflatten(x, T, B, Spec.InputSize);
        for (int layer = 0; layer < L; layer++)
        {
            var output = NewSequence(T, B, D * H);
            steps[layer] = new Step[D][][];
            for (int direction = 0; direction < D; direction++)
            {
                var w = Weights(Parameters, layer, direction);
                steps[layer][direction] = new Step[B][];
                for (int b = 0; b < B; b++)
                {
                    steps[layer][direction][b] = new Step[T];
                    int state = ((layer * D + direction) * B + b) * H;
                    double[] h = Slice(h0, state, H), c = Slice(c0, state, H);
                    for (int s = 0; s < T; s++)
                    {
                        int t = direction == 0 ? s : T - 1 - s;
                        var step = Spec.Cell switch
                        {
                            "rnn" => RnnForward(w, input[t][b], h),
                            "gru" => GruForward(w, input[t][b], h),
                            _ => LstmForward(w, input[t][b], h, c),
                        };
                        steps[layer][direction][b][t] = step;
                        h = step.H;
                        c = step.C;
                        Array.Copy(h, 0, output[t][b], direction * H, H);
                    }
                    Array.Copy(h, 0, hN, state, H);
                    if (Spec.IsLstm) Array.Copy(c, 0, cN, state, H);
                }
            }
            input = output;
        }

        double[][][]? outSeq = null;
        if (Spec.HasHead)
        {
            int O = Spec.HeadSize, width = D * H;
            double[] w = Parameters["head.weight"], bias = Parameters["head.bias"];
            outSeq = NewSequence(T, B, O);
            for (int t = 0; t < T; t++)
            {
                for (int b = 0; b < B; b++)
                {
                    for (int k = 0; k < O; k++)
                    {
                        double z = bias[k];
                        for (int c = 0; c < width; c++) z += w[k * width + c] * input[t][b][c];
                        outSeq[t][b][k] = Spec.HeadActivation == "sigmoid" ? Sigmoid(z) : z;
                    }
                }
            }
        }
        return new Trace(input, hN, cN, outSeq, steps);
    }

    /// <summary>h' = act(W_ih x + b_ih + W_hh h + b_hh).</summary>
    private Step RnnForward(LayerWeights w, double[] x, double[] hPrev)
    {
        var h = new double[H];
        var a = new double[H];
        double[] xIn = ProductVector(x), hIn = ProductVector(hPrev);
        for (int j = 0; j < H; j++)
        {
            a[j] = w.InputTerm(j, xIn) + w.HiddenTerm(j, hIn);
            h[j] = Spec.Nonlinearity == "relu" ? Math.Max(0, a[j]) : Math.Tanh(a[j]);
        }
        return new Step { X = x, HPrev = hPrev, H = h, Gates = h, PreActivation = a };
    }

    /// <summary>r, z, n as in the class summary; h' = (1 − z) ⊙ n + z ⊙ h.</summary>
    private Step GruForward(LayerWeights w, double[] x, double[] hPrev)
    {
        var gates = new double[3 * H];
        var nTerm = new double[H];
        var h = new double[H];
        double[] xIn = ProductVector(x), hIn = ProductVector(hPrev);
        for (int j = 0; j < H; j++)
        {
            gates[j] = Sigmoid(w.InputTerm(j, xIn) + w.HiddenTerm(j, hIn));             // r
            gates[H + j] = Sigmoid(w.InputTerm(H + j, xIn) + w.HiddenTerm(H + j, hIn)); // z
        }
        if (Spec.LinearBeforeReset)
        {
            for (int j = 0; j < H; j++) nTerm[j] = w.HiddenTerm(2 * H + j, hIn); // W_hn h + b_hn
            for (int j = 0; j < H; j++) gates[2 * H + j] = Math.Tanh(w.InputTerm(2 * H + j, xIn) + gates[j] * nTerm[j]);
        }
        else
        {
            for (int j = 0; j < H; j++) nTerm[j] = gates[j] * hPrev[j]; // r ⊙ h
            double[] nIn = ProductVector(nTerm);
            for (int j = 0; j < H; j++) gates[2 * H + j] = Math.Tanh(w.InputTerm(2 * H + j, xIn) + w.HiddenTerm(2 * H + j, nIn));
        }
        for (int j = 0; j < H; j++)
        {
            double z = gates[H + j], n = gates[2 * H + j];
            h[j] = (1 - z) * n + z * hPrev[j];
        }
        return new Step { X = x, HPrev = hPrev, Gates = gates, NTerm = nTerm, H = h };
    }

    /// <summary>i, f, g, o; c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c').</summary>
    private Step LstmForward(LayerWeights w, double[] x, double[] hPrev, double[] cPrev)
    {
        var gates = new double[4 * H];
        var c = new double[H];
        var h = new double[H];
        double[] xIn = ProductVector(x), hIn = ProductVector(hPrev);
        for (int k = 0; k < 4; k++)
        {
            for (int j = 0; j < H; j++)
            {
                double a = w.InputTerm(k * H + j, xIn) + w.HiddenTerm(k * H + j, hIn);
                gates[k * H + j] = k == 2 ? Math.Tanh(a) : Sigmoid(a);
            }
        }
        for (int j = 0; j < H; j++)
        {
            double i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
            c[j] = f * cPrev[j] + i * g;
            h[j] = o * Math.Tanh(c[j]);
        }
        return new Step { X = x, HPrev = hPrev, CPrev = cPrev, Gates = gates, H = h, C = c };
    }

    // ---------------------------------------------------------------- backward

    // Each takes ∂L/∂h' (and for the LSTM ∂L/∂c') of one step, adds that step's parameter gradients into g, and
    // returns (∂L/∂x, ∂L/∂h, ∂L/∂c) of the step's inputs. The pre-activation gradients da are back-propagated
    // through the two affine maps by BackInput / BackHidden.

    /// <summary>da = dh' ⊙ act'(a): tanh' = 1 − h'², relu' = [h' &gt; 0].</summary>
    private (double[] Dx, double[] DhPrev, double[] DcPrev) RnnBackward(LayerWeights w, LayerWeights g, Step s, double[] dh)
    {
        var dx = new double[s.X.Length];
        var dhPrev = new double[H];
        for (int j = 0; j < H; j++)
        {
            double hj = s.H[j];
            double da = dh[j] * (Spec.Nonlinearity == "relu" ? (hj > 0 ? 1.0 : 0.0) : 1 - hj * hj);
            BackInput(w, g, j, da, s.X, dx);
            BackHidden(w, g, j, da, s.HPrev, dhPrev);
        }
        return (dx, dhPrev, new double[H]);
    }

    /// <summary>
    /// h' = (1 − z) n + z h gives dn = dh' (1 − z), dz = dh' (h − n), and dh += dh' z directly.
    /// n = tanh(a_n): da_n = dn (1 − n²), which reaches W_in x + b_in unchanged.
    /// Linear before reset, a_n = W_in x + b_in + r ⊙ q with q = W_hn h + b_hn: dr = da_n ⊙ q, dq = da_n ⊙ r.
    /// Otherwise a_n = W_in x + b_in + W_hn (r ⊙ h) + b_hn: d(r ⊙ h) = W_hnᵀ da_n, so dr = d(r ⊙ h) ⊙ h and
    /// dh += d(r ⊙ h) ⊙ r.
    /// Then da_r = dr r (1 − r), da_z = dz z (1 − z), each reaching both affine maps.
    /// </summary>
    private (double[] Dx, double[] DhPrev, double[] DcPrev) GruBackward(LayerWeights w, LayerWeights g, Step s, double[] dh)
    {
        var dx = new double[s.X.Length];
        var dhPrev = new double[H];
        var dan = new double[H];
        var dz = new double[H];
        for (int j = 0; j < H; j++)
        {
            double z = s.Gates[H + j], n = s.Gates[2 * H + j];
            dhPrev[j] += dh[j] * z;
            dz[j] = dh[j] * (s.HPrev[j] - n);
            dan[j] = dh[j] * (1 - z) * (1 - n * n);
        }

        var dr = new double[H];
        if (Spec.LinearBeforeReset)
        {
            for (int j = 0; j < H; j++)
            {
                double r = s.Gates[j];
                dr[j] = dan[j] * s.NTerm[j];
                BackHidden(w, g, 2 * H + j, dan[j] * r, s.HPrev, dhPrev); // through q = W_hn h + b_hn
            }
        }
        else
        {
            var drh = new double[H]; // ∂L/∂(r ⊙ h)
            for (int j = 0; j < H; j++) BackHidden(w, g, 2 * H + j, dan[j], s.NTerm, drh);
            for (int j = 0; j < H; j++)
            {
                dr[j] = drh[j] * s.HPrev[j];
                dhPrev[j] += drh[j] * s.Gates[j];
            }
        }

        for (int j = 0; j < H; j++)
        {
            double r = s.Gates[j], z = s.Gates[H + j];
            double dar = dr[j] * r * (1 - r), daz = dz[j] * z * (1 - z);
            BackInput(w, g, j, dar, s.X, dx);
            BackHidden(w, g, j, dar, s.HPrev, dhPrev);
            BackInput(w, g, H + j, daz, s.X, dx);
            BackHidden(w, g, H + j, daz, s.HPrev, dhPrev);
            BackInput(w, g, 2 * H + j, dan[j], s.X, dx);
        }
        return (dx, dhPrev, new double[H]);
    }

    /// <summary>
    /// h' = o tanh(c'): do = dh' tanh(c'), and the cell carry dc' gains dh' o (1 − tanh²(c')).
    /// c' = f c + i g: di = dc' g, df = dc' c, dg = dc' i, and dc = dc' f carries to the previous step.
    /// da_i = di i (1 − i), da_f = df f (1 − f), da_g = dg (1 − g²), da_o = do o (1 − o).
    /// </summary>
    private (double[] Dx, double[] DhPrev, double[] DcPrev) LstmBackward(LayerWeights w, LayerWeights g, Step s, double[] dh, double[] dcNext)
    {
        var dx = new double[s.X.Length];
        var dhPrev = new double[H];
        var dcPrev = new double[H];
        for (int j = 0; j < H; j++)
        {
            double i = s.Gates[j], f = s.Gates[H + j], gg = s.Gates[2 * H + j], o = s.Gates[3 * H + j];
            double tc = Math.Tanh(s.C[j]);
            double dO = dh[j] * tc;
            double dc = dcNext[j] + dh[j] * o * (1 - tc * tc);
            double dI = dc * gg, dF = dc * s.CPrev[j], dG = dc * i;
            dcPrev[j] = dc * f;
            double[] da = [dI * i * (1 - i), dF * f * (1 - f), dG * (1 - gg * gg), dO * o * (1 - o)];
            for (int k = 0; k < 4; k++)
            {
                BackInput(w, g, k * H + j, da[k], s.X, dx);
                BackHidden(w, g, k * H + j, da[k], s.HPrev, dhPrev);
            }
        }
        return (dx, dhPrev, dcPrev);
    }

    /// <summary>Row <paramref name="row"/> of W_ih x + b_ih has gradient da: dW_ih[row, ·] += da x, db_ih[row] += da, dx += da W_ih[row, ·].</summary>
    private static void BackInput(LayerWeights w, LayerWeights g, int row, double da, double[] x, double[] dx)
    {
        g.Bih?[row] += da;
        for (int c = 0; c < w.In; c++)
        {
            g.Wih[row * w.In + c] += da * x[c];
            dx[c] += w.Wih[row * w.In + c] * da;
        }
    }

    /// <summary>Row <paramref name="row"/> of W_hh v + b_hh has gradient da: dW_hh[row, ·] += da v, db_hh[row] += da, dv += da W_hh[row, ·].</summary>
    private static void BackHidden(LayerWeights w, LayerWeights g, int row, double da, double[] v, double[] dv)
    {
        g.Bhh?[row] += da;
        for (int c = 0; c < w.H; c++)
        {
            g.Whh[row * w.H + c] += da * v[c];
            dv[c] += w.Whh[row * w.H + c] * da;
        }
    }

    // ---------------------------------------------------------------- plumbing

    /// <summary>One layer-direction's arrays (parameters or their gradients); absent biases are null.</summary>
    private sealed record LayerWeights(double[] Wih, double[] Whh, double[]? Bih, double[]? Bhh, int In, int H)
    {
        /// <summary>(W_ih x + b_ih)[row].</summary>
        public double InputTerm(int row, double[] x)
        {
            double a = Bih is null ? 0 : Bih[row];
            for (int c = 0; c < In; c++) a += Wih[row * In + c] * x[c];
            return a;
        }

        /// <summary>(W_hh v + b_hh)[row].</summary>
        public double HiddenTerm(int row, double[] v)
        {
            double a = Bhh is null ? 0 : Bhh[row];
            for (int c = 0; c < H; c++) a += Whh[row * H + c] * v[c];
            return a;
        }
    }

    private LayerWeights Weights(Dictionary<string, double[]> arrays, int layer, int direction)
    {
        string s = NaiveSpec.Suffix(layer, direction);
        return new LayerWeights(arrays["weight_ih" + s], arrays["weight_hh" + s],
            arrays.GetValueOrDefault("bias_ih" + s), arrays.GetValueOrDefault("bias_hh" + s), Spec.LayerInputSize(layer), H);
    }

    private static void CheckUpstream(NaiveOutputs shapes, double[]? dy, double[]? dhN, double[]? dcN, double[]? dOut)
    {
        if (dy is not null && dy.Length != shapes.Y.Length) throw new ArgumentException("dy must have the shape of y.", nameof(dy));
        if (dhN is not null && dhN.Length != shapes.HN.Length) throw new ArgumentException("dhN must have the shape of h_n.", nameof(dhN));
        if (dcN is not null && (shapes.CN is null || dcN.Length != shapes.CN.Length)) throw new ArgumentException("dcN must be null or have the shape of c_n (LSTM only).", nameof(dcN));
        if (dOut is not null && (shapes.Out is null || dOut.Length != shapes.Out.Length)) throw new ArgumentException("dOut must be null or have the shape of out (head only).", nameof(dOut));
    }

    /// <summary>Offset of element (t, b, 0) in a flat [T, B, width] (or batch-first [B, T, width]) array.</summary>
    private int SequenceOffset(int t, int b, int seqLen, int batch, int width) =>
        Spec.BatchFirst ? (b * seqLen + t) * width : (t * batch + b) * width;

    private double[][][] Unflatten(double[]? flat, int seqLen, int batch, int width)
    {
        var seq = NewSequence(seqLen, batch, width);
        if (flat is null) return seq;
        for (int t = 0; t < seqLen; t++)
            for (int b = 0; b < batch; b++)
                Array.Copy(flat, SequenceOffset(t, b, seqLen, batch, width), seq[t][b], 0, width);
        return seq;
    }

    private double[] Flatten(double[][][] seq, int seqLen, int batch, int width)
    {
        var flat = new double[seqLen * batch * width];
        for (int t = 0; t < seqLen; t++)
            for (int b = 0; b < batch; b++)
                Array.Copy(seq[t][b], 0, flat, SequenceOffset(t, b, seqLen, batch, width), width);
        return flat;
    }

    private static double[][][] NewSequence(int seqLen, int batch, int width)
    {
        var seq = new double[seqLen][][];
        for (int t = 0; t < seqLen; t++)
        {
            seq[t] = new double[batch][];
            for (int b = 0; b < batch; b++) seq[t][b] = new double[width];
        }
        return seq;
    }

    /// <summary>A copy of flat[offset .. offset + length), or zeros if flat is null.</summary>
    private static double[] Slice(double[]? flat, int offset, int length)
    {
        var v = new double[length];
        if (flat is not null) Array.Copy(flat, offset, v, 0, length);
        return v;
    }

    private static double Dot(double[] a, double[]? b)
    {
        if (b is null) return 0;
        double sum = 0;
        for (int k = 0; k < a.Length; k++) sum += a[k] * b[k];
        return sum;
    }

    private static double Sigmoid(double a) => 1.0 / (1.0 + Math.Exp(-a));

    private static int Product(int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }
}
