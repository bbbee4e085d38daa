namespace SimdRnn.Networks;

/// <summary>
/// One stream's state for an <see cref="ElmanNetwork"/>: the hidden vector, which persists between calls of
/// <see cref="Step"/> until <see cref="Reset"/>, and the scratch a step needs. Not thread-safe: give each stream
/// (or thread) its own state; the network itself is shared.
/// </summary>
public sealed class ElmanState
{
    private readonly RecurrentState _state;

    internal ElmanState(ElmanNetwork network)
    {
        Network = network;
        _state = network.Recurrent.CreateState(batch: 1);
    }

    /// <summary>The network this state runs.</summary>
    public ElmanNetwork Network { get; }

    /// <summary>The current hidden state h_t (zero after <see cref="Reset"/>).</summary>
    public ReadOnlySpan<float> Hidden => _state.Hidden;

    /// <summary>Sets the hidden state back to zero.</summary>
    public void Reset() => _state.Reset();

    /// <summary>
    /// One time step: <c>h ← tanh(Wxh·x + Whh·h + bh)</c>, then <c>output = sigmoid(Why·h + by)</c>.
    /// Allocates nothing.
    /// </summary>
    /// <param name="input">One input vector, length I.</param>
    /// <param name="output">Receives the O outputs.</param>
    /// <exception cref="ArgumentException">A length does not match; the state is then unchanged.</exception>
    public void Step(ReadOnlySpan<float> input, Span<float> output) => _state.Step(input, output);

    /// <summary>
    /// Runs T steps from the current hidden state (it is not reset): <paramref name="inputs"/> holds T vectors of
    /// length I, time-major, and <paramref name="outputs"/> receives T vectors of length O.
    /// </summary>
    /// <param name="inputs">T·I floats.</param>
    /// <param name="outputs">T·O floats.</param>
    /// <exception cref="ArgumentException">A length does not fit; the state is then unchanged.</exception>
    public void Run(ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        CheckSequence(inputs, outputs);
        int i = Network.InputSize, o = Network.OutputSize;
        for (int t = 0; t < inputs.Length / i; t++)
            _state.Step(inputs.Slice(t * i, i), outputs.Slice(t * o, o));
    }

    internal void CheckSequence(ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        int i = Network.InputSize;
        if (inputs.Length % i != 0)
            throw new ArgumentException($"Expected a multiple of the input size {i}, got length {inputs.Length}.", nameof(inputs));
        Guard.Length(outputs, (long)(inputs.Length / i) * Network.OutputSize, nameof(outputs));
    }
}
