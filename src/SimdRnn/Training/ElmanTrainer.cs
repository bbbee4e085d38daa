using SimdRnn.Networks;

namespace SimdRnn.Training;

/// <summary>
/// Trains an Elman network by exact back-propagation through time and the clipped SGD update
/// <c>w ← w − lr · clamp(g, −c, c)</c> (or Adam). The trainer owns a copy of the weights and every buffer an iteration
/// needs, so an iteration allocates nothing once the longest sequence has been seen; <see cref="ToNetwork"/> hands
/// back an immutable network. The seed's interface to a <see cref="RecurrentTrainer"/> with one stream. Not
/// thread-safe; dispose it to return its pooled buffers.
/// </summary>
public sealed class ElmanTrainer : IDisposable
{
    private readonly RecurrentTrainer _trainer;

    /// <summary>Creates a trainer starting from the weights of <paramref name="initial"/> (copied).</summary>
    /// <param name="initial">The starting network; it is not modified.</param>
    /// <param name="options">Hyper-parameters; null for the seed document's (lr 0.1, clip 5, BCE summed).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public ElmanTrainer(ElmanNetwork initial, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _trainer = new RecurrentTrainer(initial.Recurrent, options);
    }

    /// <summary>The hyper-parameters.</summary>
    public TrainerOptions Options => _trainer.Options;

    /// <summary>The current weights, tensor by tensor.</summary>
    public ElmanTensors Weights => ElmanTensors.Of(_trainer.Spec, _trainer.Parameters);

    /// <summary>The gradients of the last <see cref="ComputeGradients"/> (before clipping), laid out like <see cref="Weights"/>.</summary>
    public ElmanTensors Gradients => ElmanTensors.Of(_trainer.Spec, _trainer.Gradients);

    /// <summary>
    /// Runs the sequence forward from a zero hidden state and back-propagates exactly through time, leaving the
    /// gradient of the loss in <see cref="Gradients"/>. The weights are not changed.
    /// </summary>
    /// <param name="inputs">T input vectors of length I, time-major (T·I floats, T ≥ 0).</param>
    /// <param name="targets">T target vectors of length O (T·O floats).</param>
    /// <returns>The loss and the mean squared error of this forward pass.</returns>
    /// <exception cref="ArgumentException">A length does not fit; nothing is changed then.</exception>
    public LossReport ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        CheckSequence(inputs, targets);
        return _trainer.ComputeGradients(inputs, 1, targets);
    }

    /// <summary>Applies the update with the gradients of the last <see cref="ComputeGradients"/>, unless one is not finite.</summary>
    /// <returns>Whether the update was applied (false: a gradient was NaN or infinite, and nothing changed).</returns>
    public bool ApplyGradients() => _trainer.ApplyGradients();

    /// <summary>One training iteration: <see cref="ComputeGradients"/> then <see cref="ApplyGradients"/>.</summary>
    /// <param name="inputs">T input vectors of length I (T·I floats).</param>
    /// <param name="targets">T target vectors of length O (T·O floats).</param>
    /// <returns>The losses measured before the update, as the seed document reports them.</returns>
    /// <exception cref="ArgumentException">A length does not fit; nothing is changed then.</exception>
    public LossReport TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        CheckSequence(inputs, targets);
        return _trainer.TrainStep(inputs, 1, targets);
    }

    private void CheckSequence(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        int i = _trainer.Spec.InputSize;
        if (inputs.Length % i != 0)
            throw new ArgumentException($"Expected a multiple of the input size {i}, got length {inputs.Length}.", nameof(inputs));
        Guard.Length(targets, (long)(inputs.Length / i) * _trainer.Spec.ReadoutSize, nameof(targets));
    }

    /// <summary>An immutable network holding a copy of the current weights.</summary>
    /// <returns>The new network.</returns>
    public ElmanNetwork ToNetwork() => new(_trainer.ToNetwork());

    /// <summary>Returns the pooled buffers.</summary>
    public void Dispose() => _trainer.Dispose();
}
