using SimdRnn.Networks;
using SimdRnn.Training;

namespace SimdRnn.Tests.Robustness;

/// <summary>
/// Inference propagates NaN (a NaN input gives NaN outputs; ±∞ inputs saturate the gates, tanh(±∞) = ±1, and give
/// NaN only where ∞ meets 0 or ∞ − ∞). Training never writes a non-finite value into the weights: an iteration whose
/// loss or gradients are not finite leaves parameters and optimizer state untouched and says so.
/// </summary>
public class NonFiniteTests
{
    private static readonly RecurrentSpec Spec = new(CellKind.Gru, 4, 9) { ReadoutSize = 1, ReadoutActivation = ReadoutActivation.Sigmoid };

    [Fact]
    public void Inference_propagates_nan_and_saturates_infinities()
    {
        var network = RecurrentNetwork.CreateRandom(Spec, seed: 1);
        var state = network.CreateState();
        var y = new float[1];
        state.Step([float.NaN, 0, 0, 0], y);
        Assert.True(float.IsNaN(y[0]));
        Assert.All(state.Hidden.ToArray(), v => Assert.True(float.IsNaN(v)));

        state.Reset();
        state.Step([float.PositiveInfinity, 1, -1, 0], y);
        Assert.InRange(y[0], 0f, 1f); // the gates saturate; the output stays a probability
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd, "x")]
    [InlineData(OptimizerKind.Adam, "x")]
    [InlineData(OptimizerKind.Adam, "target")]
    [InlineData(OptimizerKind.Sgd, "infinity")]
    public void A_non_finite_iteration_changes_nothing_and_is_reported(OptimizerKind optimizer, string where)
    {
        var network = RecurrentNetwork.CreateRandom(Spec, seed: 1);
        using var trainer = new RecurrentTrainer(network, new TrainerOptions { Optimizer = optimizer, LearningRate = 0.05f, Loss = LossKind.SquaredError });
        float[] x = Enumerable.Range(0, 3 * 4).Select(k => MathF.Cos(k)).ToArray(), target = [0.2f, 0.9f, 0.4f];
        Assert.True(trainer.TrainStep(x, 1, target).Updated);
        float[] weights = trainer.Parameters.ToArray(), m = trainer.OptimizerState.FirstMoments.ToArray(), v = trainer.OptimizerState.SecondMoments.ToArray();
        int updates = trainer.UpdateCount;

        float[] badX = (float[])x.Clone(), badTarget = (float[])target.Clone();
        if (where == "x") badX[5] = float.NaN;
        else if (where == "target") badTarget[1] = float.NaN;
        else badX[2] = float.PositiveInfinity * (x[2] > 0 ? 1 : -1) * 0 is var z && float.IsNaN(z) ? float.MaxValue : float.MaxValue;
        var report = trainer.TrainStep(badX, 1, badTarget);

        if (where != "infinity")
        {
            Assert.False(report.Updated);
            Assert.False(report.IsFinite);
            Assert.Equal(weights, trainer.Parameters.ToArray());
            Assert.Equal(m, trainer.OptimizerState.FirstMoments.ToArray());
            Assert.Equal(v, trainer.OptimizerState.SecondMoments.ToArray());
            Assert.Equal(updates, trainer.UpdateCount);
        }
        Assert.True(SimdRnn.Kernels.Elementwise.AllFinite(trainer.Parameters), "no non-finite weight is ever written");
        // And training goes on from there.
        Assert.True(trainer.TrainStep(x, 1, target).Updated);
    }
}
