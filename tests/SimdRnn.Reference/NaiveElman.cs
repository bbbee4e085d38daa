namespace SimdRnn.Reference;

/// <summary>
/// The seed document's network written straight from the equations in shared/seed/NOTES.md, in double precision,
/// with plain loops and no SIMD: the independent oracle the library is tested against. Column-vector convention,
/// matrices row-major in flat arrays; the flat parameter order is Wxh, Whh, bh, Why, by (the library's).
/// </summary>
public sealed class NaiveElman
{
    public NaiveElman(int inputSize, int hiddenSize, int outputSize, double[] parameters)
    {
        I = inputSize;
        H = hiddenSize;
        O = outputSize;
        if (parameters.Length != Count(I, H, O)) throw new ArgumentException("Wrong parameter count.", nameof(parameters));
        Parameters = parameters;
    }

    public int I { get; }
    public int H { get; }
    public int O { get; }

    /// <summary>Wxh, Whh, bh, Why, by, one after the other.</summary>
    public double[] Parameters { get; }

    public static int Count(int i, int h, int o) => h * i + h * h + h + o * h + o;

    public double Wxh(int r, int c) => Parameters[r * I + c];
    public double Whh(int r, int c) => Parameters[H * I + r * H + c];
    public double Bh(int r) => Parameters[H * I + H * H + r];
    public double Why(int r, int c) => Parameters[H * I + H * H + H + r * H + c];
    public double By(int r) => Parameters[H * I + H * H + H + O * H + r];

    /// <summary>The activations of one forward pass from h_0 = 0.</summary>
    public sealed record Trace(double[][] Hidden, double[][] Logits, double[][] Outputs);

    /// <summary>h_t = tanh(Wxh x_t + Whh h_{t−1} + bh), z_t = Why h_t + by, o_t = σ(z_t); Hidden[0] = h_0 = 0.</summary>
    public Trace Forward(double[][] xs)
    {
        int steps = xs.Length;
        var hs = new double[steps + 1][];
        var zs = new double[steps][];
        var os = new double[steps][];
        hs[0] = new double[H];
        for (int t = 0; t < steps; t++)
        {
            hs[t + 1] = new double[H];
            for (int r = 0; r < H; r++)
            {
                double a = Bh(r);
                for (int c = 0; c < I; c++) a += Wxh(r, c) * xs[t][c];
                for (int c = 0; c < H; c++) a += Whh(r, c) * hs[t][c];
                hs[t + 1][r] = Math.Tanh(a);
            }
            zs[t] = new double[O];
            os[t] = new double[O];
            for (int r = 0; r < O; r++)
            {
                double z = By(r);
                for (int c = 0; c < H; c++) z += Why(r, c) * hs[t + 1][c];
                zs[t][r] = z;
                os[t][r] = 1.0 / (1.0 + Math.Exp(-z));
            }
        }
        return new Trace(hs, zs, os);
    }

    /// <summary>The loss: binary cross-entropy (bce = true) or squared error, summed (mean = false) or averaged over T·O.</summary>
    public double Loss(double[][] xs, double[][] targets, bool bce, bool mean)
    {
        var trace = Forward(xs);
        double sum = 0;
        int n = 0;
        for (int t = 0; t < xs.Length; t++)
        {
            for (int k = 0; k < O; k++, n++)
            {
                double o = trace.Outputs[t][k], y = targets[t][k];
                sum += bce ? -(y * Math.Log(o) + (1 - y) * Math.Log(1 - o)) : (o - y) * (o - y);
            }
        }
        return mean && n > 0 ? sum / n : sum;
    }

    /// <summary>Exact back-propagation through time: the gradient of <see cref="Loss"/> in the flat parameter order.</summary>
    public double[] Gradients(double[][] xs, double[][] targets, bool bce, bool mean)
    {
        var trace = Forward(xs);
        int steps = xs.Length;
        double scale = mean && steps > 0 ? 1.0 / (steps * O) : 1.0;
        var g = new double[Parameters.Length];
        int oWxh = 0, oWhh = H * I, oBh = oWhh + H * H, oWhy = oBh + H, oBy = oWhy + O * H;
        var delta = new double[H]; // dL/dh_t carried from step t+1
        for (int t = steps - 1; t >= 0; t--)
        {
            double[] h = trace.Hidden[t + 1], hPrev = trace.Hidden[t];
            var dz = new double[O];
            for (int k = 0; k < O; k++)
            {
                double o = trace.Outputs[t][k], y = targets[t][k];
                dz[k] = (bce ? o - y : 2 * (o - y) * o * (1 - o)) * scale;
                g[oBy + k] += dz[k];
                for (int c = 0; c < H; c++) g[oWhy + k * H + c] += dz[k] * h[c];
            }
            var da = new double[H];
            for (int r = 0; r < H; r++)
            {
                double dh = delta[r];
                for (int k = 0; k < O; k++) dh += Why(k, r) * dz[k];
                da[r] = (1 - h[r] * h[r]) * dh;
            }
            for (int r = 0; r < H; r++)
            {
                g[oBh + r] += da[r];
                for (int c = 0; c < I; c++) g[oWxh + r * I + c] += da[r] * xs[t][c];
                for (int c = 0; c < H; c++) g[oWhh + r * H + c] += da[r] * hPrev[c];
            }
            delta = new double[H];
            for (int c = 0; c < H; c++)
                for (int r = 0; r < H; r++) delta[c] += Whh(r, c) * da[r];
        }
        return g;
    }

    /// <summary>Central finite differences of <see cref="Loss"/>: (L(p + ε e_k) − L(p − ε e_k)) / 2ε for every k.</summary>
    public double[] FiniteDifferenceGradients(double[][] xs, double[][] targets, bool bce, bool mean, double epsilon = 1e-6)
    {
        var g = new double[Parameters.Length];
        for (int k = 0; k < Parameters.Length; k++)
        {
            double saved = Parameters[k];
            Parameters[k] = saved + epsilon;
            double plus = Loss(xs, targets, bce, mean);
            Parameters[k] = saved - epsilon;
            double minus = Loss(xs, targets, bce, mean);
            Parameters[k] = saved;
            g[k] = (plus - minus) / (2 * epsilon);
        }
        return g;
    }

    /// <summary>
    /// A literal port of the seed document's <c>backward</c> (before its clip and update): it uses the last step's
    /// hidden state h_T wherever h_t or h_{t−1} belongs. Kept only as a documented oracle of the defect.
    /// Summed BCE gradient (dy = o − t).
    /// </summary>
    public double[] SeedDocumentGradients(double[][] xs, double[][] targets)
    {
        var trace = Forward(xs);
        int steps = xs.Length;
        double[] hLast = trace.Hidden[steps]; // the document's self.h after forward
        var g = new double[Parameters.Length];
        int oWxh = 0, oWhh = H * I, oBh = oWhh + H * H, oWhy = oBh + H, oBy = oWhy + O * H;
        var dhNext = new double[H];
        for (int t = steps - 1; t >= 0; t--)
        {
            var dy = new double[O];
            for (int k = 0; k < O; k++)
            {
                dy[k] = trace.Outputs[t][k] - targets[t][k];
                for (int c = 0; c < H; c++) g[oWhy + k * H + c] += dy[k] * hLast[c]; // dWhy += dy·self.hᵀ
                g[oBy + k] += dy[k];
            }
            var dhRaw = new double[H];
            for (int r = 0; r < H; r++)
            {
                double dh = dhNext[r];
                for (int k = 0; k < O; k++) dh += Why(k, r) * dy[k];
                dhRaw[r] = (1 - hLast[r] * hLast[r]) * dh; // (1 − self.h²)·dh
            }
            for (int r = 0; r < H; r++)
            {
                for (int c = 0; c < I; c++) g[oWxh + r * I + c] += dhRaw[r] * xs[t][c];
                for (int c = 0; c < H; c++) g[oWhh + r * H + c] += dhRaw[r] * hLast[c]; // dWhh += dh_raw·self.hᵀ
                g[oBh + r] += dhRaw[r];
            }
            dhNext = new double[H];
            for (int c = 0; c < H; c++)
                for (int r = 0; r < H; r++) dhNext[c] += Whh(r, c) * dhRaw[r];
        }
        return g;
    }

    /// <summary>The seed document's update on these parameters: p ← p − lr·clip(g, −c, c), in double precision.</summary>
    public void ClippedSgd(double[] gradients, double learningRate, double clip)
    {
        for (int k = 0; k < Parameters.Length; k++) Parameters[k] -= learningRate * Math.Clamp(gradients[k], -clip, clip);
    }
}
