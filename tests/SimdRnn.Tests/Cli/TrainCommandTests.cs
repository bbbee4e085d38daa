using SimdRnn.Cli;
using SimdRnn.Interop;
using SimdRnn.Tests.Interop;
using SimdRnn.Training;

namespace SimdRnn.Tests.Cli;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("simdrnn-train-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Train_matches_pytorchs_steps_and_writes_model_log_and_plot()
    {
        // The training fixture holds the initial model, x, target, and PyTorch's losses for five SGD steps.
        string fixture = Fixtures.Get("training", "gru_bce_sum_sgd.safetensors");
        var settings = new TrainSettings
        {
            Model = fixture, Data = fixture, Output = Path.Combine(_folder, "out.safetensors"), Epochs = 5,
            Log = Path.Combine(_folder, "loss.csv"), Plot = Path.Combine(_folder, "loss.png"),
        };
        var result = TrainModel.Run(settings);
        float[] pytorch = SafetensorsFile.Load(fixture).ReadFloat32("losses");
        for (int k = 0; k < 5; k++) Assert.Equal(pytorch[k], result.Losses[k], 1e-5 * pytorch[k]);

        var saved = SafetensorsFile.Load(settings.Output);
        Assert.Contains("rnn.weight_ih_l0", saved.Names);
        Assert.Contains("head.weight", saved.Names);
        var expected = SafetensorsFile.Load(fixture);
        float[] final = expected.ReadFloat32("final.rnn.weight_hh_l0"), actual = saved.ReadFloat32("rnn.weight_hh_l0");
        for (int k = 0; k < final.Length; k++) Assert.True(Math.Abs(final[k] - actual[k]) <= 1e-5);

        string[] log = File.ReadAllLines(settings.Log);
        Assert.Equal("epoch,loss", log[0]);
        Assert.Equal(6, log.Length);
        byte[] png = File.ReadAllBytes(settings.Plot);
        Assert.True(png.Length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G');
    }

    [Fact]
    public void Adam_with_mean_mse_and_no_clipping_runs_from_the_options()
    {
        string fixture = Fixtures.Get("training", "lstm_bce_mean_adam.safetensors");
        var result = TrainModel.Run(new TrainSettings
        {
            Model = fixture, Data = fixture, Output = Path.Combine(_folder, "adam.safetensors"), Epochs = 30,
            Optimizer = OptimizerKind.Adam, LearningRate = 0.01f, Loss = LossKind.SquaredError, Reduction = LossReduction.Mean, Clip = 0,
        });
        Assert.True(result.Losses[^1] < result.Losses[0]);
        Assert.Equal(0, result.SkippedUpdates);
    }

    [Fact]
    public void Data_that_does_not_fit_the_model_is_reported()
    {
        string model = Fixtures.Get("training", "gru_bce_sum_sgd.safetensors");
        string data = Path.Combine(_folder, "bad.safetensors");
        new SafetensorsWriter().Add("x", new float[12], [4, 1, 3]).Add("target", new float[4], [4, 1, 1]).Save(data);
        var e = Assert.Throws<ModelFormatException>(() => TrainModel.Run(new TrainSettings { Model = model, Data = data, Output = data + ".out" }));
        Assert.Contains("tensor 'target' has shape [4, 1, 1], expected [4, 1, 2]", e.Message);
        Assert.False(File.Exists(data + ".out"));
    }

    [Fact]
    public void Inspect_describes_the_architecture_and_tensors()
    {
        var output = new StringWriter();
        InspectModel.Run(Fixtures.Get("pytorch", "lstm_bi2.safetensors"), output);
        string text = output.ToString();
        Assert.Contains("cell        Lstm", text);
        Assert.Contains("layers      2, bidirectional", text);
        Assert.Contains("sizes       input 5, hidden 7, output 14", text);
        Assert.Contains("rnn.weight_hh_l1_reverse F32 [28, 7]", text);
    }
}
