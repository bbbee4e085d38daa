using SimdRnn.Tests.Support;
using SimdRnn.Networks;
using SimdRnn.Training;

namespace SimdRnn.Tests.Training;

/// <summary>Zero allocation in steady state for streaming steps, sequence runs and training iterations, every cell.</summary>
public class RecurrentAllocationTests
{
    private static long AllocatedBy(Action action, int repetitions = 50) => Allocations.Of(action, repetitions);

    public static TheoryData<CellKind, bool, int> Specs() => new()
    {
        { CellKind.Rnn, true, 1 }, { CellKind.Gru, true, 1 }, { CellKind.Gru, false, 3 }, { CellKind.Lstm, true, 1 }, { CellKind.Lstm, true, 4 },
    };

    private static RecurrentSpec Spec(CellKind cell, bool linearBeforeReset, bool bidirectional = false) =>
        new(cell, 13, 37) { Layers = 2, LinearBeforeReset = linearBeforeReset, ReadoutSize = 2, ReadoutActivation = ReadoutActivation.Sigmoid, Bidirectional = bidirectional };

    [Theory]
    [MemberData(nameof(Specs))]
    public void Streaming_steps_allocate_nothing(CellKind cell, bool linearBeforeReset, int batch)
    {
        var state = RecurrentNetwork.CreateRandom(Spec(cell, linearBeforeReset), 1).CreateState(batch);
        float[] x = new float[13 * batch], y = new float[2 * batch];
        Assert.Equal(0, AllocatedBy(() => state.Step(x, y)));
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Sequence_runs_allocate_nothing(CellKind cell, bool linearBeforeReset, int batch)
    {
        var network = RecurrentNetwork.CreateRandom(Spec(cell, linearBeforeReset, bidirectional: true), 1);
        using var session = network.CreateSession();
        float[] x = new float[7 * batch * 13], y = new float[7 * batch * 2], hN = new float[4 * batch * 37];
        Assert.Equal(0, AllocatedBy(() => session.Run(x, batch, y, default, default, hN)));
        // A shorter sequence reuses the buffers.
        Assert.Equal(0, AllocatedBy(() => session.Run(x.AsSpan(0, 3 * batch * 13), batch, y.AsSpan(0, 3 * batch * 2))));
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Training_iterations_allocate_nothing(CellKind cell, bool linearBeforeReset, int batch)
    {
        foreach (var optimizer in new[] { OptimizerKind.Sgd, OptimizerKind.Adam })
        {
            var network = RecurrentNetwork.CreateRandom(Spec(cell, linearBeforeReset, bidirectional: true), 1);
            using var trainer = new RecurrentTrainer(network, new TrainerOptions { Optimizer = optimizer, LearningRate = 0.01f });
            float[] x = new float[7 * batch * 13], targets = new float[7 * batch * 2];
            Assert.Equal(0, AllocatedBy(() => trainer.TrainStep(x, batch, targets)));
        }
    }
}
