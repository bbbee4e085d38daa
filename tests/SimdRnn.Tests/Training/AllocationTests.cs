using SimdRnn.Tests.Support;
using SimdRnn.Networks;
using SimdRnn.Training;

namespace SimdRnn.Tests.Training;

/// <summary>Steady state allocates nothing: a streaming step, a sequence forward and a training iteration.</summary>
public class AllocationTests
{
    private static long AllocatedBy(Action action, int repetitions = 50) => Allocations.Of(action, repetitions);

    [Theory]
    [InlineData(3, 25, 1)]
    [InlineData(64, 128, 3)]
    [InlineData(13, 67, 5)]
    public void A_streaming_step_allocates_nothing(int i, int h, int o)
    {
        var state = ElmanNetwork.CreateRandom(i, h, o, seed: 1).CreateState();
        float[] x = new float[i], y = new float[o];
        Assert.Equal(0, AllocatedBy(() => state.Step(x, y)));
    }

    [Fact]
    public void A_sequence_forward_allocates_nothing()
    {
        var network = ElmanNetwork.CreateRandom(3, 25, 1, seed: 1);
        var state = network.CreateState();
        float[] x = new float[3 * 50], y = new float[50];
        Assert.Equal(0, AllocatedBy(() => network.Forward(x, y, state)));
    }

    [Theory]
    [InlineData(LossKind.BinaryCrossEntropy, LossReduction.Sum)]
    [InlineData(LossKind.SquaredError, LossReduction.Mean)]
    public void A_training_iteration_allocates_nothing(LossKind loss, LossReduction reduction)
    {
        using var trainer = new ElmanTrainer(ElmanNetwork.CreateRandom(3, 25, 1, seed: 1), new TrainerOptions { Loss = loss, Reduction = reduction });
        float[] x = [1, 0, 1, 0, 1, 0], y = [1, 0];
        Assert.Equal(0, AllocatedBy(() => trainer.TrainStep(x, y)));
        // Shorter sequences reuse the buffers of longer ones.
        Assert.Equal(0, AllocatedBy(() => trainer.TrainStep(x.AsSpan(0, 3), y.AsSpan(0, 1))));
    }
}
