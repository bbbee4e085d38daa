using SimdRnn.Kernels;

namespace SimdRnn.Training;

/// <summary>The state of an update rule over one flat parameter buffer: Adam's moments and step count, or nothing for SGD.</summary>
internal sealed class Optimizer
{
    private readonly TrainerOptions _options;
    private readonly float[] _firstMoments, _secondMoments;
    private int _step;

    public Optimizer(TrainerOptions options, int parameterCount)
    {
        _options = options;
        bool adam = options.Optimizer == OptimizerKind.Adam;
        _firstMoments = new float[adam ? parameterCount : 0];
        _secondMoments = new float[adam ? parameterCount : 0];
    }

    /// <summary>Adam's first and second moments (empty for SGD), for tests that check nothing changed.</summary>
    internal ReadOnlySpan<float> FirstMoments => _firstMoments;

    internal ReadOnlySpan<float> SecondMoments => _secondMoments;

    /// <summary>The number of updates applied so far.</summary>
    public int Steps => _step;

    public void Apply(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        _step++;
        if (_options.Optimizer == OptimizerKind.Adam)
            Adam.Update(parameters, gradients, _firstMoments, _secondMoments, _options.LearningRate, _options.Beta1, _options.Beta2, _options.Epsilon, _step, _options.GradientClip);
        else
            ClippedSgd.Update(parameters, gradients, _options.LearningRate, _options.GradientClip);
    }
}
