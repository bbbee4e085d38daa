namespace SimdRnn.Training;

/// <summary>The losses of one forward pass, computed before any update.</summary>
/// <param name="Loss">The training objective (as chosen in <see cref="TrainerOptions"/>), in double precision.</param>
/// <param name="MeanSquaredError">The mean of (o − t)² over all T·O outputs: what the seed document prints.</param>
/// <param name="Updated">
/// False when a training step skipped its update because the loss or a gradient was not finite (the weights and the
/// optimizer state are then untouched); true otherwise, and for a pass that computed gradients only.
/// </param>
public readonly record struct LossReport(double Loss, double MeanSquaredError, bool Updated = true)
{
    /// <summary>Whether the loss and the gradients were all finite.</summary>
    public bool IsFinite => double.IsFinite(Loss) && double.IsFinite(MeanSquaredError) && Updated;
}
