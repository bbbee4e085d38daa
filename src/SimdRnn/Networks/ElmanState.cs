using SimdRnn.Cells;
using SimdRnn.Kernels;

namespace SimdRnn.Networks;

/// <summary>
/// One stream's state for an <see cref="ElmanNetwork"/>: the hidden vector, which persists between calls of
/// <see cref="Step"/> until <see cref="Reset"/>, and the scratch a step needs. Not thread-safe: give each stream
/// (or thread) its own state; the network itself is shared.
/// </summary>
public sealed class ElmanState
{
    private readonly float[] _hidden;
    private readonly float[] _preActivation;

    internal ElmanState(ElmanNetwork network)
    {
        Network = network;
        _hidden = new float[network.HiddenSize];
        _preActivation = new float[network.HiddenSize];
    }

    /// <summary>The network this state runs.</summary>
    public ElmanNetwork Network { get; }

    /// <summary>The current hidden state h_t (zero after <see cref="Reset"/>).</summary>
    public ReadOnlySpan<float> Hidden => _hidden;

    /// <summary>Sets the hidden state back to zero.</summary>
    public void Reset() => Array.Clear(_hidden);

    /// <summary>
    /// One time step: <c>h ← tanh(Wxh·x + Whh·h + bh)</c>, then <c>output = sigmoid(Why·h + by)</c>.
    /// Allocates nothing.
    /// </summary>
    /// <param name="input">One input vector, length I.</param>
    /// <param name="output">Receives the O outputs.</param>
    /// <exception cref="ArgumentException">A length does not match; the state is then unchanged.</exception>
    public void Step(ReadOnlySpan<float> input, Span<float> output)
    {
        var layout = Network.Layout;
        Guard.Length(input, layout.I, nameof(input));
        Guard.Length(output, layout.O, nameof(output));
        StepUnchecked(input, output);
    }

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
        RunUnchecked(inputs, outputs);
    }

    internal void CheckSequence(ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        var layout = Network.Layout;
        if (inputs.Length % layout.I != 0)
            throw new ArgumentException($"Expected a multiple of the input size {layout.I}, got length {inputs.Length}.", nameof(inputs));
        Guard.Length(outputs, (long)(inputs.Length / layout.I) * layout.O, nameof(outputs));
    }

    internal void RunUnchecked(ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        var layout = Network.Layout;
        int steps = inputs.Length / layout.I;
        for (int t = 0; t < steps; t++)
            StepUnchecked(inputs.Slice(t * layout.I, layout.I), outputs.Slice(t * layout.O, layout.O));
    }

    private void StepUnchecked(ReadOnlySpan<float> input, Span<float> output)
    {
        var layout = Network.Layout;
        ReadOnlySpan<float> p = Network.ParameterSpan;
        ElmanCell.Hidden(layout, p, input, _hidden, _hidden, _preActivation);
        ElmanCell.Logits(layout, p, _hidden, output);
        Activations.Sigmoid(output, output);
    }
}
