namespace SimdRnn.Networks;

/// <summary>Validation of sequence-mode arguments, shared by sessions and trainers; every check runs before any state changes.</summary>
internal static class SequenceArguments
{
    /// <summary>Checks the input [T, B, I] (or [B, T, I]) and returns T.</summary>
    public static int Steps(RecurrentSpec spec, ReadOnlySpan<float> input, int batch)
    {
        Guard.Positive(batch, nameof(batch));
        long row = (long)batch * spec.InputSize;
        if (input.Length % row != 0)
            throw new ArgumentException($"Expected a multiple of batch × input size = {row}, got length {input.Length}.", nameof(input));
        return (int)(input.Length / row);
    }

    /// <summary>Checks an optional state tensor [L·D, B, H]: empty, or exactly that long.</summary>
    public static void State(RecurrentSpec spec, ReadOnlySpan<float> state, int batch, bool isCell, string name)
    {
        if (state.IsEmpty) return;
        if (isCell && !spec.HasCellState)
            throw new ArgumentException($"A {spec.Cell} network has no cell state; pass an empty span.", name);
        Guard.Length(state, (long)spec.Layers * spec.Directions * batch * spec.HiddenSize, name);
    }

    /// <summary>Checks a required per-step tensor [T, B, width].</summary>
    public static void PerStep(ReadOnlySpan<float> values, int steps, int batch, int width, string name) =>
        Guard.Length(values, (long)steps * batch * width, name);

    /// <summary>Checks an optional per-step tensor: empty, or [T, B, width].</summary>
    public static void OptionalPerStep(ReadOnlySpan<float> values, int steps, int batch, int width, string name)
    {
        if (!values.IsEmpty) PerStep(values, steps, batch, width, name);
    }

    /// <summary>
    /// Checks sequence lengths: exactly B of them (one per batch row, in any order), each in 1..T. Packed-sequence
    /// semantics: row b's input is read at t &lt; length_b only.
    /// </summary>
    public static void Lengths(ReadOnlySpan<int> lengths, int steps, int batch, string name)
    {
        if (lengths.Length != batch)
            throw new ArgumentException($"Expected one length per sequence ({batch}), got {lengths.Length}.", name);
        for (int b = 0; b < lengths.Length; b++)
            if (lengths[b] < 1 || lengths[b] > steps)
                throw new ArgumentException($"{name}[{b}] = {lengths[b]}: every length must be in 1..T = 1..{steps}.", name);
    }
}
