namespace SimdRnn.Training;

/// <summary>The parameter update rule.</summary>
public enum OptimizerKind
{
    /// <summary>Clipped SGD: <c>w ← w − lr · clamp(g, −c, c)</c> (the seed document's).</summary>
    Sgd,

    /// <summary>Adam with bias correction (torch.optim.Adam), after the same element-wise clipping.</summary>
    Adam,
}

/// <summary>Hyper-parameters of <see cref="ElmanTrainer"/> and <see cref="RecurrentTrainer"/>; the defaults are the seed document's.</summary>
public sealed record TrainerOptions
{
    /// <summary>The update rule (default clipped SGD).</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>Adam's β₁ (default 0.9).</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam's β₂ (default 0.999).</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam's ε (default 1e-8).</summary>
    public float Epsilon { get; init; } = 1e-8f;

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
        if (!Enum.IsDefined(Optimizer)) throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, "Unknown optimizer.");
        if (Optimizer == OptimizerKind.Adam) Kernels.Adam.CheckHyperparameters(LearningRate, Beta1, Beta2, Epsilon, GradientClip);
        else Kernels.ClippedSgd.CheckHyperparameters(LearningRate, GradientClip);
        if (!Enum.IsDefined(Loss)) throw new ArgumentOutOfRangeException(nameof(Loss), Loss, "Unknown loss.");
        if (!Enum.IsDefined(Reduction)) throw new ArgumentOutOfRangeException(nameof(Reduction), Reduction, "Unknown reduction.");
    }
}
