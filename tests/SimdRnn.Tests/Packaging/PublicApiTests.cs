using PublicApiGenerator;
using SimdRnn.Networks;
using SimdRnn.Onnx;

namespace SimdRnn.Tests.Packaging;

/// <summary>
/// The public API is a contract: its surface is recorded in api/*.txt, and a change to it fails this test until the
/// file is updated with it (set SIMDRNN_UPDATE_API=1 and rerun to rewrite the files, then review the diff).
/// </summary>
public class PublicApiTests
{
    public static TheoryData<string> Assemblies() => new() { "SimdRnn", "SimdRnn.Onnx" };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void The_public_api_matches_the_recorded_contract(string name)
    {
        var assembly = name == "SimdRnn" ? typeof(RecurrentNetwork).Assembly : typeof(OnnxImport).Assembly;
        string actual = assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false }).ReplaceLineEndings("\n");
        string path = Path.Combine(ReadmeExampleTests.RepositoryRoot(), "api", name + ".txt");
        if (Environment.GetEnvironmentVariable("SIMDRNN_UPDATE_API") == "1") File.WriteAllText(path, actual);
        Assert.True(File.Exists(path), $"{path} is missing: run with SIMDRNN_UPDATE_API=1 to record the API.");
        string recorded = File.ReadAllText(path).ReplaceLineEndings("\n");
        if (recorded == actual) return;
        string[] a = recorded.Split('\n'), b = actual.Split('\n');
        var removed = a.Except(b).Take(10).Select(l => "- " + l);
        var added = b.Except(a).Take(10).Select(l => "+ " + l);
        Assert.Fail($"The public API of {name} changed without api/{name}.txt (rerun with SIMDRNN_UPDATE_API=1 to accept):\n" +
                    string.Join("\n", removed.Concat(added)));
    }
}
