using System.Globalization;
using SimdRnn.Networks;
using SimdRnn.Training;

namespace SimdRnn.Cli;

/// <summary>The settings of <c>simdrnn demo</c>; the defaults are the seed document's.</summary>
public sealed record DemoSettings
{
    /// <summary>Training epochs (one forward, one exact BPTT and one update each).</summary>
    public int Epochs { get; init; } = 1000;

    /// <summary>The SGD learning rate.</summary>
    public float LearningRate { get; init; } = 0.1f;

    /// <summary>The element-wise gradient clip; 0 turns clipping off.</summary>
    public float Clip { get; init; } = 5f;

    /// <summary>Hidden units.</summary>
    public int Hidden { get; init; } = 25;

    /// <summary>The seed of the N(0,1)·0.01 initial weights.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>The seed document's run: a 3-H-1 Elman network trained on its two-step sequence, then one prediction.</summary>
public static class Demo
{
    /// <summary>The seed's data: x_1 = [1,0,1], x_2 = [0,1,0] with targets 1 and 0.</summary>
    private static readonly float[] Inputs = [1, 0, 1, 0, 1, 0];
    private static readonly float[] Targets = [1, 0];
    private static readonly float[] Probe = [1, 1, 1];

    /// <summary>Trains, printing <c>epoch N mse X</c> every 100 epochs, then the prediction for [1,1,1].</summary>
    /// <param name="settings">The hyper-parameters.</param>
    /// <param name="output">Where the lines go.</param>
    /// <returns>The MSE of the last epoch and the prediction.</returns>
    public static (double LastMse, float Prediction) Run(DemoSettings settings, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        var initial = ElmanNetwork.CreateRandom(3, settings.Hidden, 1, settings.Seed, scale: 0.01f);
        var options = new TrainerOptions
        {
            LearningRate = settings.LearningRate,
            GradientClip = settings.Clip == 0 ? float.PositiveInfinity : settings.Clip,
        };
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv,
            $"Elman RNN 3-{settings.Hidden}-1, exact BPTT, BCE loss, lr {settings.LearningRate}, clip {settings.Clip}, {settings.Epochs} epochs, seed {settings.Seed}"));

        using var trainer = new ElmanTrainer(initial, options);
        double mse = double.NaN;
        for (int epoch = 1; epoch <= settings.Epochs; epoch++)
        {
            mse = trainer.TrainStep(Inputs, Targets).MeanSquaredError; // measured before the update, as the seed does
            if (epoch % 100 == 0) output.WriteLine(string.Create(inv, $"epoch {epoch} mse {mse:0.000e+00}"));
        }

        var state = trainer.ToNetwork().CreateState();
        Span<float> prediction = stackalloc float[1];
        state.Step(Probe, prediction);
        output.WriteLine(string.Create(inv, $"input [1, 1, 1] prediction {prediction[0]:0.000000}"));
        return (mse, prediction[0]);
    }
}
