namespace SimdRnn.Networks;

/// <summary>
/// Runs whole sequences through a <see cref="RecurrentNetwork"/>: B streams at once, every layer and direction, the
/// input projection of all T·B rows as one matrix product. Owns its buffers (pooled, grown only for a longer or
/// wider batch than before), so repeated runs allocate nothing. One thread at a time; dispose to return the buffers.
/// </summary>
public sealed class RecurrentSession : IDisposable
{
    private readonly SequenceEngine _engine;

    internal RecurrentSession(RecurrentNetwork network)
    {
        Network = network;
        _engine = new SequenceEngine(network.Layout, training: false);
    }

    /// <summary>The network this session runs.</summary>
    public RecurrentNetwork Network { get; }

    /// <summary>
    /// Runs the sequences in <paramref name="input"/> ([T, B, I], or [B, T, I] when the spec is batch-first) from the
    /// initial states (empty = zeros) and writes the network's output: the readout's [T, B, O] if the network has one,
    /// else the top layer's [T, B, D·H].
    /// </summary>
    /// <param name="input">T·B·I floats.</param>
    /// <param name="batch">B, the number of sequences.</param>
    /// <param name="output">T·B·<see cref="RecurrentSpec.OutputSize"/> floats.</param>
    /// <param name="initialHidden">h_0 [L·D, B, H], or empty for zeros.</param>
    /// <param name="initialCell">c_0 [L·D, B, H] (LSTM), or empty for zeros.</param>
    /// <param name="finalHidden">Receives h_T [L·D, B, H] (for the reverse direction, its state after t = 0), or empty.</param>
    /// <param name="finalCell">Receives c_T (LSTM), or empty.</param>
    /// <param name="layerOutput">Receives the top layer's output [T, B, D·H] when the network has a readout, or empty.</param>
    /// <exception cref="ArgumentException">A length does not fit the spec; nothing is written then.</exception>
    public void Run(ReadOnlySpan<float> input, int batch, Span<float> output,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default,
        Span<float> finalHidden = default, Span<float> finalCell = default, Span<float> layerOutput = default)
    {
        var spec = Network.Spec;
        int steps = SequenceArguments.Steps(spec, input, batch);
        SequenceArguments.PerStep(output, steps, batch, spec.OutputSize, nameof(output));
        SequenceArguments.State(spec, initialHidden, batch, false, nameof(initialHidden));
        SequenceArguments.State(spec, initialCell, batch, true, nameof(initialCell));
        SequenceArguments.State(spec, finalHidden, batch, false, nameof(finalHidden));
        SequenceArguments.State(spec, finalCell, batch, true, nameof(finalCell));
        if (spec.ReadoutSize > 0) SequenceArguments.OptionalPerStep(layerOutput, steps, batch, spec.LayerOutputSize, nameof(layerOutput));
        else if (!layerOutput.IsEmpty) throw new ArgumentException("Without a readout the layer output is the output; pass an empty span.", nameof(layerOutput));

        ReadOnlySpan<float> sequenceFirst = input;
        if (spec.BatchFirst)
        {
            Span<float> buffer = _engine.InputBuffer(steps, batch);
            MatrixOps.SwapLeadingAxes(input, batch, steps, spec.InputSize, buffer);
            sequenceFirst = buffer;
        }
        _engine.Forward(Network.Parameters, Network.DerivedBiasSpan, sequenceFirst, steps, batch, initialHidden, initialCell, finalHidden, finalCell);
        if (spec.ReadoutSize > 0)
        {
            WriteSequence(_engine.ReadoutOutput, steps, batch, spec.ReadoutSize, output);
            if (!layerOutput.IsEmpty) WriteSequence(_engine.TopOutput, steps, batch, spec.LayerOutputSize, layerOutput);
        }
        else
        {
            WriteSequence(_engine.TopOutput, steps, batch, spec.LayerOutputSize, output);
        }
    }

    private void WriteSequence(ReadOnlySpan<float> sequenceFirst, int steps, int batch, int width, Span<float> destination)
    {
        if (!Network.Spec.BatchFirst) sequenceFirst.CopyTo(destination);
        else MatrixOps.SwapLeadingAxes(sequenceFirst, steps, batch, width, destination);
    }

    /// <summary>Returns the pooled buffers.</summary>
    public void Dispose()
    {
        _engine.Dispose();
    }
}
