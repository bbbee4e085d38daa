using System.Diagnostics;

namespace SimdRnn.Tests.Packaging;

/// <summary>
/// `dotnet pack` makes the SimdRnn and SimdRnn.Onnx library packages (with symbol packages) and the `simdrnn` tool;
/// the tool installs from the folder into a tool path and runs the seed demo. Packs the already-built projects
/// (--no-build, same configuration as this test assembly); needs NuGet for the tool's dependencies.
/// </summary>
[Trait("Category", "Packaging")]
[Collection(SimdRnn.Tests.Support.IsolatedCollection.Name)]
public sealed class ToolPackageTests : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif
    private readonly string _folder = Directory.CreateTempSubdirectory("simdrnn-pack-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static (int ExitCode, string Output) Run(string file, string arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // The child must not inherit a test rerun's hardware switches or this test host's settings.
        start.Environment.Remove("DOTNET_EnableAVX2");
        start.Environment.Remove("DOTNET_EnableHWIntrinsic");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4))) process.Kill(entireProcessTree: true);
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public void Packs_installs_the_tool_and_runs_the_demo()
    {
        string root = ReadmeExampleTests.RepositoryRoot();
        string packages = Path.Combine(_folder, "packages"), tools = Path.Combine(_folder, "tools");
        foreach (var project in new[] { "src/SimdRnn", "src/SimdRnn.Onnx", "src/SimdRnn.Cli" })
        {
            var (code, output) = Run("dotnet", $"pack {project} -c {Configuration} --no-build -o \"{packages}\"", root);
            Assert.True(code == 0, $"dotnet pack {project} failed:\n{output}");
        }
        string[] made = Directory.GetFiles(packages).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(["SimdRnn.0.1.0.nupkg", "SimdRnn.0.1.0.snupkg", "SimdRnn.Cli.0.1.0.nupkg", "SimdRnn.Cli.0.1.0.snupkg",
            "SimdRnn.Onnx.0.1.0.nupkg", "SimdRnn.Onnx.0.1.0.snupkg"], made);

        var install = Run("dotnet", $"tool install --tool-path \"{tools}\" --add-source \"{packages}\" SimdRnn.Cli --version 0.1.0", _folder);
        Assert.True(install.ExitCode == 0, $"dotnet tool install failed:\n{install.Output}");
        var demo = Run(Path.Combine(tools, "simdrnn"), "demo --epochs 300", _folder);
        Assert.True(demo.ExitCode == 0, demo.Output);
        Assert.Contains("epoch 300 mse", demo.Output);
        Assert.Contains("input [1, 1, 1] prediction", demo.Output);
    }
}
