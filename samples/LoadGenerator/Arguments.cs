using System.Globalization;

namespace LoadGenerator;

/// <summary>--name value pairs.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Arguments Parse(string[] args)
    {
        var parsed = new Arguments();
        for (int k = 0; k < args.Length; k++)
        {
            if (!args[k].StartsWith("--", StringComparison.Ordinal) || k + 1 >= args.Length)
                throw new ArgumentException($"Expected --name value, got '{args[k]}'.");
            parsed._values[args[k][2..]] = args[++k];
        }
        return parsed;
    }

    public string String(string name, string? fallback = null) =>
        _values.TryGetValue(name, out string? value) ? value : fallback ?? throw new ArgumentException($"--{name} is required.");

    public double Number(string name, double fallback) =>
        _values.TryGetValue(name, out string? value) ? double.Parse(value, CultureInfo.InvariantCulture) : fallback;
}
