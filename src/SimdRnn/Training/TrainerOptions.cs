namespace SimdRnn.Training;

/// <summary>Hyper-parameters of <see cref="ElmanTrainer"/>; the defaults are the seed document's.</summary>
public sealed record TrainerOptions
{
    /// <summary>The SGD step size (default 0.1). Must be finite.</summary>
    public float LearningRate { get; init; } = 0.1f;

    /// <summary>
    /// The element-wise gradient clipping bound c (default 5): every gradient element is clamped into [−c, c]
    /// before the update. Must be positive; <see cref="float.PositiveInfinity"/> turns clipping off.
    /// </summary>
    public float GradientClip { get; init; } = 5f;

    /// <summary>The objective (default binary cross-entropy, as the seed document's <c>dy = o − t</c>).</summary>
    public LossKind Loss { get; init; } = LossKind.BinaryCrossEntropy;

    /// <summary>How per-element losses are combined (default summed, as in the seed document).</summary>
    public LossReduction Reduction { get; init; } = LossReduction.Sum;

    internal void Validate()
    {
        Kernels.ClippedSgd.CheckHyperparameters(LearningRate, GradientClip);
        if (!Enum.IsDefined(Loss)) throw new ArgumentOutOfRangeException(nameof(Loss), Loss, "Unknown loss.");
        if (!Enum.IsDefined(Reduction)) throw new ArgumentOutOfRangeException(nameof(Reduction), Reduction, "Unknown reduction.");
    }
}
