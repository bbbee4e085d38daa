namespace SimdRnn;

/// <summary>Argument checks shared by the public entry points: each names the argument, the expected and the actual value.</summary>
internal static class Guard
{
    public static void Length(ReadOnlySpan<float> span, long expected, string name)
    {
        if (span.Length != expected)
            throw new ArgumentException($"Expected length {expected}, got {span.Length}.", name);
    }

    public static void Length(Span<float> span, long expected, string name) => Length((ReadOnlySpan<float>)span, expected, name);

    public static void SameLength(int actual, int expected, string name)
    {
        if (actual != expected)
            throw new ArgumentException($"Expected length {expected}, got {actual}.", name);
    }

    public static void NonNegative(int value, string name)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(name, value, "Must be zero or positive.");
    }

    public static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, "Must be positive.");
    }
}
