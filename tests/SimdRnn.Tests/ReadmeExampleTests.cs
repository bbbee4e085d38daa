using SimdRnn.Networks;
using SimdRnn.Training;

namespace SimdRnn.Tests;

/// <summary>The README's C# example is this file's marked block: the test checks that the two agree and runs it.</summary>
public class ReadmeExampleTests
{
    private static float Example()
    {
        // README-BEGIN
        // The seed document's problem: 3 inputs, 25 hidden units, 1 sigmoid output.
        var network = ElmanNetwork.CreateRandom(inputSize: 3, hiddenSize: 25, outputSize: 1, seed: 1);
        float[] inputs = [1, 0, 1, 0, 1, 0]; // two time steps of 3 inputs
        float[] targets = [1, 0];

        using (var trainer = new ElmanTrainer(network)) // lr 0.1, clip 5, BCE: the seed's defaults
        {
            for (int epoch = 0; epoch < 1000; epoch++) trainer.TrainStep(inputs, targets);
            network = trainer.ToNetwork(); // immutable: share it across threads
        }

        var stream = network.CreateState(); // one per stream: holds h between steps
        float[] output = new float[1];
        stream.Step([1, 1, 1], output); // allocates nothing
        Console.WriteLine(output[0]); // ≈ 0.996
        // README-END
        return output[0];
    }

    [Fact]
    public void The_readme_shows_this_example_verbatim()
    {
        string source = File.ReadAllText(Path.Combine(RepositoryRoot(), "tests", "SimdRnn.Tests", "ReadmeExampleTests.cs"));
        int begin = source.IndexOf("// README-BEGIN", StringComparison.Ordinal), end = source.IndexOf("        // README-END", StringComparison.Ordinal);
        string block = source[(source.IndexOf('\n', begin) + 1)..end];
        string dedented = string.Join('\n', block.Split('\n').Select(l => l.Length >= 8 ? l[8..] : l.TrimStart()));
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md")).Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Contains(dedented, readme, StringComparison.Ordinal);
    }

    [Fact]
    public void The_readme_example_runs_and_learns_the_seed_problem() => Assert.InRange(Example(), 0.98f, 1f);

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SimdRnn.sln"))) return dir.FullName;
        throw new InvalidOperationException("SimdRnn.sln not found above " + AppContext.BaseDirectory);
    }
}
