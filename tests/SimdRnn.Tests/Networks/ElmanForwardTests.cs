using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Networks;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Networks;

public class ElmanForwardTests
{
    // Tolerance: 1e-5 relative per output. Float32 rounding (2^-24 ≈ 6e-8 per operation), the activations' 3e-7
    // absolute bound and dot products of ≤ 67 terms give hidden-state errors of order 1e-6 after a few steps;
    // an output o = σ(z) moves by at most σ'(z) ≤ 1/4 of the error in z, and with weights in ±1/√H the outputs
    // stay in about (0.05, 0.95), so 1e-5 relative leaves a margin of a few times the expected error.
    private const double OutputTolerance = 1e-5;

    [Property(MaxTest = 150)]
    public Property Sequence_forward_matches_the_double_precision_reference() =>
        Prop.ForAll(ElmanCase.Arbitrary(), c =>
        {
            var network = c.Network();
            var outputs = new float[c.T * c.O];
            var state = network.CreateState();
            network.Forward(c.Inputs, outputs, state);

            var trace = c.Reference().Forward(c.InputVectors());
            double[] expected = trace.Outputs.SelectMany(o => o).ToArray();
            string? failure = Compare.ElementwiseRelative(outputs, expected, OutputTolerance);
            Assert.True(failure is null, $"{c}: {failure}");
            // The final hidden state, against its own scale with a floor of 1e-6: h ∈ (−1, 1) is a tanh of a sum of up
            // to 134 terms (|w| ≤ 1/√H, |x|, |h| ≤ 1) whose float32 rounding is ~1e-6 absolute however small the sum
            // (seen: H = 1, I = 66, h = 0.0028 with an error of 4e-8).
            failure = Compare.NormRelative(state.Hidden, trace.Hidden[c.T], OutputTolerance, "h_T", floor: 1e-6);
            Assert.True(failure is null, $"{c}: {failure}");
        });

    [Property(MaxTest = 50)]
    public Property Streaming_steps_give_the_same_outputs_as_the_sequence_forward() =>
        Prop.ForAll(ElmanCase.Arbitrary(), c =>
        {
            var network = c.Network();
            var whole = new float[c.T * c.O];
            network.Forward(c.Inputs, whole, network.CreateState());

            var state = network.CreateState();
            var step = new float[c.O];
            for (int t = 0; t < c.T; t++)
            {
                state.Step(c.Inputs.AsSpan(t * c.I, c.I), step);
                Assert.Equal(whole.AsSpan(t * c.O, c.O).ToArray(), step);
            }
        });

    [Fact]
    public void State_persists_between_steps_until_reset()
    {
        var network = ElmanNetwork.CreateRandom(3, 25, 1, seed: 7, scale: 0.5f);
        var state = network.CreateState();
        float[] x = [1, 0, 1];
        float[] first = new float[1], second = new float[1], afterReset = new float[1];
        state.Step(x, first);
        state.Step(x, second);
        Assert.NotEqual(first[0], second[0]); // h_1 ≠ 0 changed the second step
        state.Reset();
        Assert.All(state.Hidden.ToArray(), v => Assert.Equal(0f, v));
        state.Step(x, afterReset);
        Assert.Equal(first[0], afterReset[0]);
    }

    [Fact]
    public void Run_continues_from_the_current_state()
    {
        var network = ElmanNetwork.CreateRandom(2, 9, 2, seed: 3, scale: 0.5f);
        float[] inputs = [0.5f, -1f, 0.25f, 0.75f, -0.5f, 0.1f];
        var whole = new float[6];
        network.Forward(inputs, whole, network.CreateState());

        var state = network.CreateState();
        var part = new float[2];
        state.Run(inputs.AsSpan(0, 2), part);
        var rest = new float[4];
        state.Run(inputs.AsSpan(2), rest);
        Assert.Equal(whole, part.Concat(rest).ToArray());
    }

    [Fact]
    public void Wrong_sizes_are_rejected_with_the_argument_name_and_leave_the_state_unchanged()
    {
        var network = ElmanNetwork.CreateRandom(3, 25, 1, seed: 1, scale: 0.5f);
        var state = network.CreateState();
        state.Step([1, 0, 1], new float[1]);
        float[] before = state.Hidden.ToArray();

        var e1 = Assert.Throws<ArgumentException>(() => state.Step(new float[4], new float[1]));
        Assert.Equal("input", e1.ParamName);
        Assert.Contains("Expected length 3, got 4", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => state.Step(new float[3], new float[2]));
        Assert.Equal("output", e2.ParamName);
        var e3 = Assert.Throws<ArgumentException>(() => state.Run(new float[7], new float[2]));
        Assert.Equal("inputs", e3.ParamName);
        var e4 = Assert.Throws<ArgumentException>(() => state.Run(new float[6], new float[3]));
        Assert.Equal("outputs", e4.ParamName);
        var e5 = Assert.Throws<ArgumentException>(() => network.Forward(new float[3], new float[1], ElmanNetwork.CreateRandom(3, 25, 1, 1).CreateState()));
        Assert.Equal("state", e5.ParamName);
        Assert.Equal(before, state.Hidden.ToArray());

        Assert.Throws<ArgumentException>(() => new ElmanNetwork(3, 25, 1, new float[10]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ElmanNetwork(0, 25, 1, new float[10]));
    }

    [Fact]
    public void An_empty_sequence_produces_nothing_and_leaves_a_zero_state()
    {
        var network = ElmanNetwork.CreateRandom(3, 25, 1, seed: 1);
        var state = network.CreateState();
        network.Forward([], [], state);
        Assert.All(state.Hidden.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Random_initialization_is_seeded_gaussian_with_zero_biases()
    {
        var a = ElmanNetwork.CreateRandom(3, 25, 1, seed: 42);
        var b = ElmanNetwork.CreateRandom(3, 25, 1, seed: 42);
        Assert.Equal(a.Weights.All.ToArray(), b.Weights.All.ToArray());
        Assert.All(a.Weights.HiddenBias.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(a.Weights.OutputBias.ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(3 * 25 + 25 * 25 + 25 + 25 + 1, a.ParameterCount);

        // N(0, 1)·0.01 over a large draw: mean ≈ 0, standard deviation ≈ 0.01 (5σ bounds of the estimators).
        var big = ElmanNetwork.CreateRandom(50, 200, 1, seed: 5);
        float[] w = big.Weights.RecurrentWeights.ToArray();
        double mean = w.Average(v => (double)v);
        double sd = Math.Sqrt(w.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -5 * 0.01 / Math.Sqrt(w.Length), 5 * 0.01 / Math.Sqrt(w.Length));
        Assert.InRange(sd, 0.01 * (1 - 5 / Math.Sqrt(2.0 * w.Length)), 0.01 * (1 + 5 / Math.Sqrt(2.0 * w.Length)));
    }
}
