namespace SimdRnn.Training;

/// <summary>The losses of one forward pass, computed before any update.</summary>
/// <param name="Loss">The training objective (as chosen in <see cref="TrainerOptions"/>), in double precision.</param>
/// <param name="MeanSquaredError">The mean of (o − t)² over all T·O outputs: what the seed document prints.</param>
public readonly record struct LossReport(double Loss, double MeanSquaredError);
