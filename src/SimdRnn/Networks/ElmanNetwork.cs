namespace SimdRnn.Networks;

/// <summary>
/// The seed document's network: an Elman layer <c>h_t = tanh(Wxh·x_t + Whh·h_{t−1} + bh)</c> with one hidden bias,
/// and a dense readout <c>o_t = sigmoid(Why·h_t + by)</c>.
/// </summary>
/// <remarks>
/// A network is immutable: its weights never change after construction, so one instance can be shared by any
/// number of threads, each running its own <see cref="ElmanState"/>. Training works on a copy
/// (<see cref="Training.ElmanTrainer"/>) and hands back a new network. It is the seed's special case of a
/// <see cref="RecurrentNetwork"/> (one RNN layer with a single bias and a sigmoid readout), whose parameter order
/// Wxh, Whh, bh, Why, by is exactly PyTorch's <c>weight_ih_l0</c>, <c>weight_hh_l0</c>, <c>bias_ih_l0</c>,
/// <c>head.weight</c>, <c>head.bias</c>; <see cref="Recurrent"/> exposes it.
/// </remarks>
public sealed class ElmanNetwork
{

    /// <summary>Creates a network from its parameters (copied), laid out as <see cref="ElmanTensors.All"/>.</summary>
    /// <param name="inputSize">I, the length of an input vector (≥ 1).</param>
    /// <param name="hiddenSize">H, the number of hidden units (≥ 1).</param>
    /// <param name="outputSize">O, the number of outputs (≥ 1).</param>
    /// <param name="parameters">Wxh (H×I), Whh (H×H), bh (H), Why (O×H), by (O), row-major, one after the other.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="parameters"/> has the wrong length.</exception>
    public ElmanNetwork(int inputSize, int hiddenSize, int outputSize, ReadOnlySpan<float> parameters)
        : this(RecurrentNetwork.FromParameters(SpecOf(inputSize, hiddenSize, outputSize), parameters))
    {
    }

    internal ElmanNetwork(RecurrentNetwork recurrent) => Recurrent = recurrent;

    /// <summary>The same network as a general <see cref="RecurrentNetwork"/> (for PyTorch export, batches, sessions).</summary>
    public RecurrentNetwork Recurrent { get; }

    /// <summary>The seed's architecture as a <see cref="RecurrentSpec"/>: one tanh RNN layer, one bias, a sigmoid readout.</summary>
    /// <param name="inputSize">I (≥ 1).</param>
    /// <param name="hiddenSize">H (≥ 1).</param>
    /// <param name="outputSize">O (≥ 1).</param>
    /// <returns>The spec.</returns>
    public static RecurrentSpec SpecOf(int inputSize, int hiddenSize, int outputSize)
    {
        Guard.Positive(inputSize, nameof(inputSize));
        Guard.Positive(hiddenSize, nameof(hiddenSize));
        Guard.Positive(outputSize, nameof(outputSize));
        return new RecurrentSpec(CellKind.Rnn, inputSize, hiddenSize)
        {
            Bias = BiasMode.Single,
            ReadoutSize = outputSize,
            ReadoutActivation = ReadoutActivation.Sigmoid,
        };
    }

    /// <summary>
    /// Creates a network initialized as in the seed document: weights drawn from N(0, 1) · <paramref name="scale"/>
    /// (Box–Muller over <see cref="Random"/> seeded with <paramref name="seed"/>), biases zero.
    /// </summary>
    /// <param name="inputSize">I (≥ 1).</param>
    /// <param name="hiddenSize">H (≥ 1).</param>
    /// <param name="outputSize">O (≥ 1).</param>
    /// <param name="seed">The random seed; the same seed gives the same weights on every platform.</param>
    /// <param name="scale">The standard deviation of the weights (the seed document uses 0.01).</param>
    /// <returns>The new network.</returns>
    public static ElmanNetwork CreateRandom(int inputSize, int hiddenSize, int outputSize, int seed, float scale = 0.01f)
    {
        var spec = SpecOf(inputSize, hiddenSize, outputSize);
        var p = new float[RecurrentNetwork.TensorsOf(spec).Sum(t => t.Length)];
        var random = new Random(seed);
        // Draw in the seed document's order: Wxh, Whh, Why; biases stay zero.
        int h = hiddenSize, wxh = h * inputSize, whh = h * h;
        FillGaussian(p.AsSpan(0, wxh), random, scale);
        FillGaussian(p.AsSpan(wxh, whh), random, scale);
        FillGaussian(p.AsSpan(wxh + whh + h, outputSize * h), random, scale);
        return new ElmanNetwork(RecurrentNetwork.FromParameters(spec, p));
    }

    /// <summary>I, the length of one input vector.</summary>
    public int InputSize => Recurrent.Spec.InputSize;

    /// <summary>H, the number of hidden units.</summary>
    public int HiddenSize => Recurrent.Spec.HiddenSize;

    /// <summary>O, the number of outputs.</summary>
    public int OutputSize => Recurrent.Spec.ReadoutSize;

    /// <summary>The number of parameters: H·I + H·H + H + O·H + O.</summary>
    public int ParameterCount => Recurrent.ParameterCount;

    /// <summary>The weights, tensor by tensor.</summary>
    public ElmanTensors Weights => ElmanTensors.Of(Recurrent.Spec, Recurrent.Parameters);

    /// <summary>Creates a new per-stream state (hidden state zero) with its own scratch buffers.</summary>
    /// <returns>A state that must be used by one thread at a time.</returns>
    public ElmanState CreateState() => new(this);

    /// <summary>
    /// Runs a whole sequence from a zero hidden state: <paramref name="inputs"/> holds T vectors of
    /// <see cref="InputSize"/>, <paramref name="outputs"/> receives T vectors of <see cref="OutputSize"/>.
    /// The state is reset first and holds h_T afterwards.
    /// </summary>
    /// <param name="inputs">T·I floats, time-major.</param>
    /// <param name="outputs">T·O floats.</param>
    /// <param name="state">A state of this network, used as scratch.</param>
    /// <exception cref="ArgumentException">A length does not fit, or the state belongs to another network.</exception>
    public void Forward(ReadOnlySpan<float> inputs, Span<float> outputs, ElmanState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!ReferenceEquals(state.Network, this))
            throw new ArgumentException("The state was created by another network.", nameof(state));
        state.CheckSequence(inputs, outputs);
        state.Reset();
        state.Run(inputs, outputs);
    }

    private static void FillGaussian(Span<float> values, Random random, float scale)
    {
        for (int i = 0; i < values.Length; i += 2)
        {
            // Box–Muller: two independent N(0,1) draws from two uniforms in (0, 1].
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            values[i] = (float)(radius * Math.Cos(2 * Math.PI * u2) * scale);
            if (i + 1 < values.Length) values[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2) * scale);
        }
    }
}
