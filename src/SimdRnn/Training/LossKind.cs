namespace SimdRnn.Training;

/// <summary>The training objective, measured on the sigmoid outputs o against the targets t.</summary>
public enum LossKind
{
    /// <summary>
    /// Binary cross-entropy <c>−[t·log o + (1 − t)·log(1 − o)]</c>, computed stably from the logit z; its gradient
    /// with respect to z is <c>o − t</c>, the seed document's <c>dy</c>.
    /// </summary>
    BinaryCrossEntropy,

    /// <summary>Squared error <c>(o − t)²</c>; its gradient with respect to z is <c>2(o − t)·o·(1 − o)</c>.</summary>
    SquaredError,
}

/// <summary>How the per-element losses of a sequence are combined.</summary>
public enum LossReduction
{
    /// <summary>Summed over time steps and outputs (the seed document's choice).</summary>
    Sum,

    /// <summary>Averaged over time steps, batch and outputs (T·B·O elements; with sequence lengths, the valid positions only: Σ_b length_b · O).</summary>
    Mean,
}
