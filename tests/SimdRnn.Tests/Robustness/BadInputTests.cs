using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Networks;
using SimdRnn.Training;

namespace SimdRnn.Tests.Robustness;

/// <summary>
/// Every public method checks lengths before it changes any state: called with random wrong sizes, it throws
/// ArgumentException naming an argument, and the weights, the states and the optimizer's moments are unchanged.
/// </summary>
public class BadInputTests
{
    private static readonly RecurrentSpec Spec = new(CellKind.Lstm, 3, 5) { Layers = 2, ReadoutSize = 2, ReadoutActivation = ReadoutActivation.Sigmoid };

    /// <summary>A length that differs from <paramref name="right"/> (one more, one less, about double, or 0/1), chosen by <paramref name="pick"/>.</summary>
    private static int Wrong(int right, int pick) => pick switch
    {
        0 => right + 1,
        1 => right == 0 ? 1 : right - 1,
        2 => right * 2 + 1,
        _ => right == 0 ? 1 : 0,
    };

    private static string Fingerprint(RecurrentState state, RecurrentTrainer trainer) =>
        string.Join(",", state.Hidden.ToArray().Concat(state.Cell.ToArray()).Concat(trainer.Parameters.ToArray())
            .Concat(trainer.Gradients.ToArray()).Concat(trainer.OptimizerState.FirstMoments.ToArray())
            .Concat(trainer.OptimizerState.SecondMoments.ToArray()).Select(v => BitConverter.SingleToInt32Bits(v)))
        + $"|{trainer.UpdateCount}";

    [Property(MaxTest = 300)]
    public Property Wrong_sizes_throw_naming_the_argument_and_change_nothing() =>
        Prop.ForAll(Gen.Choose(0, 13).ToArbitrary(), Gen.Choose(0, 3).ToArbitrary(), Gen.Choose(1, 3).ToArbitrary(), (method, pick, batch) =>
        {
            var network = RecurrentNetwork.CreateRandom(Spec, seed: 2);
            var state = network.CreateState(batch);
            using var session = network.CreateSession();
            using var trainer = new RecurrentTrainer(network, new TrainerOptions { Optimizer = OptimizerKind.Adam, LearningRate = 0.01f });
            int t = 4, i = Spec.InputSize, o = Spec.OutputSize, states = Spec.Layers * batch * Spec.HiddenSize;
            float[] x = new float[t * batch * i], targets = new float[t * batch * o];
            // Bring everything to a non-trivial state first.
            state.Step(new float[batch * i].Select((_, k) => 0.1f * k).ToArray(), new float[batch * o]);
            trainer.TrainStep(x.Select((_, k) => MathF.Sin(k)).ToArray(), batch, targets);
            trainer.Forward(x, batch);
            string before = Fingerprint(state, trainer);
            float[] snapshotBefore = [.. state.Hidden, .. state.Cell];

            string expectedName;
            Action call;
            switch (method)
            {
                case 0: expectedName = "input"; call = () => state.Step(new float[Wrong(batch * i, pick)], new float[batch * o]); break;
                case 1: expectedName = "output"; call = () => state.Step(new float[batch * i], new float[Wrong(batch * o, pick)]); break;
                case 2: expectedName = "source"; call = () => state.Restore(new float[Wrong(state.SnapshotLength, pick)]); break;
                case 3: expectedName = "destination"; call = () => state.Save(new float[Wrong(state.SnapshotLength, pick)]); break;
                case 4: expectedName = "output"; call = () => session.Run(x, batch, new float[Wrong(t * batch * o, pick)]); break;
                case 5: expectedName = "initialHidden"; call = () => session.Run(x, batch, new float[t * batch * o], new float[Wrong(states, pick) is 0 ? 1 : Wrong(states, pick)]); break;
                case 6: expectedName = "finalCell"; call = () => session.Run(x, batch, new float[t * batch * o], default, default, default, new float[Wrong(states, pick) is 0 ? states + 1 : Wrong(states, pick)]); break;
                case 7: expectedName = "targets"; call = () => trainer.TrainStep(x, batch, new float[Wrong(t * batch * o, pick)]); break;
                case 8: expectedName = "input"; call = () => trainer.TrainStep(new float[t * batch * i + 1 + pick % 2], batch, targets); break; // never a multiple of B·I ≥ 3
                case 9: expectedName = "initialCell"; call = () => trainer.TrainStep(x, batch, targets, default, new float[Wrong(states, pick) is 0 ? 1 : Wrong(states, pick)]); break;
                case 10: expectedName = "outputGradient"; call = () => trainer.Backward(new float[Wrong(t * batch * o, pick) is 0 ? 1 : Wrong(t * batch * o, pick)]); break;
                case 11: expectedName = "finalHiddenGradient"; call = () => trainer.Backward(default, default, new float[Wrong(states, pick) is 0 ? 1 : Wrong(states, pick)]); break;
                case 12: expectedName = "layerOutputGradient"; call = () => trainer.Backward(default, new float[Wrong(t * batch * Spec.LayerOutputSize, pick) is 0 ? 1 : Wrong(t * batch * Spec.LayerOutputSize, pick)]); break;
                default: expectedName = "batch"; call = () => session.Run(x, -pick, new float[t * batch * o]); break;
            }
            var e = Assert.ThrowsAny<ArgumentException>(call);
            Assert.Equal(expectedName, e.ParamName);
            Assert.Equal(before, Fingerprint(state, trainer));
            Assert.Equal(snapshotBefore, (float[])[.. state.Hidden, .. state.Cell]);
        });
}
