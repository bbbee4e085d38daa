using System.Globalization;
using System.Text.RegularExpressions;
using SimdRnn.Cli;

namespace SimdRnn.Tests.Cli;

public partial class DemoTests
{
    [GeneratedRegex(@"^epoch (\d+) mse (\S+)$")]
    private static partial Regex EpochLine();

    [Fact]
    public void The_demo_reproduces_the_seed_run_with_exact_bptt()
    {
        var output = new StringWriter();
        var (mse, prediction) = Demo.Run(new DemoSettings(), output);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var epochs = lines.Select(l => EpochLine().Match(l)).Where(m => m.Success).ToArray();
        Assert.Equal(Enumerable.Range(1, 10).Select(k => k * 100), epochs.Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
        double[] mses = epochs.Select(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToArray();
        // NOTES.md: exact BPTT ends 1000 epochs near MSE 2e-7 and predicts ≈ 0.996 for [1,1,1].
        Assert.InRange(mses[^1], 1e-8, 5e-6);
        Assert.Equal(mses[^1], mse, 3);
        Assert.True(mses.Zip(mses.Skip(1)).All(p => p.Second < p.First), "the MSE should fall at every report");
        Assert.InRange(prediction, 0.98f, 1f);
        Assert.Matches(@"^input \[1, 1, 1\] prediction 0\.99\d+$", lines[^1]);
    }

    [Fact]
    public void The_demo_is_deterministic_for_a_seed_and_honours_its_options()
    {
        var a = new StringWriter();
        var b = new StringWriter();
        var settings = new DemoSettings { Epochs = 200, Hidden = 7, Seed = 9, LearningRate = 0.05f, Clip = 0 };
        Demo.Run(settings, a);
        Demo.Run(settings, b);
        Assert.Equal(a.ToString(), b.ToString());
        Assert.Contains("3-7-1", a.ToString());
        Assert.Equal(2, a.ToString().Split('\n').Count(l => l.StartsWith("epoch ", StringComparison.Ordinal)));
    }
}
