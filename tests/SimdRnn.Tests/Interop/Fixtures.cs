namespace SimdRnn.Tests.Interop;

/// <summary>Paths of the committed fixtures under <c>tests/fixtures</c>, copied next to the test assembly.</summary>
public static class Fixtures
{
    /// <summary>The folder the fixtures are copied to.</summary>
    public static string Root => Path.Combine(AppContext.BaseDirectory, "fixtures");

    /// <summary>The full path of a fixture, for example <c>Get("pytorch", "gru_single.safetensors")</c>.</summary>
    public static string Get(string folder, string fileName)
    {
        string path = Path.Combine(Root, folder, fileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"Fixture {folder}/{fileName} is missing from the test output.", path);
        return path;
    }

    /// <summary>The file names (not paths) in a fixture folder matching a pattern, sorted ordinally.</summary>
    public static string[] List(string folder, string pattern = "*")
    {
        string[] names = Directory.GetFiles(Path.Combine(Root, folder), pattern).Select(p => Path.GetFileName(p)!).ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }
}
