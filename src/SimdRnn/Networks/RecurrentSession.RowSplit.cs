namespace SimdRnn.Networks;

public sealed partial class RecurrentSession
{
    private RowSplitSequence? _rowSplit; // the B = 1 run split by hidden units (issue 13), made on first use

    /// <summary>
    /// The row-split runner for a run of one sequence with <see cref="MaxDegreeOfParallelism"/> workers, or null when
    /// the split is off for this model (see <see cref="RowSplitPlan"/>; e.g. below its size threshold).
    /// </summary>
    private RowSplitSequence? RowSplit(int batch, int steps, int workers = 0, bool ignoreThreshold = false)
    {
        if (batch != 1 || steps == 0) return null;
        int count = RowSplitPlan.Workers(Network.Spec, workers > 0 ? workers : MaxDegreeOfParallelism, ignoreThreshold);
        if (count < 2) return null;
        if (_rowSplit is null || _rowSplit.Workers != count)
        {
            _rowSplit?.Dispose();
            _rowSplit = new RowSplitSequence(Network, count);
        }
        return _rowSplit;
    }

    /// <summary>Runs one sequence split across <paramref name="workers"/> whatever the model's size (tests); false when the split is off for this spec.</summary>
    internal bool RunRowSplitForTests(int workers, ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> initialHidden = default,
        ReadOnlySpan<float> initialCell = default, Span<float> finalHidden = default, Span<float> finalCell = default, Span<float> layerOutput = default)
    {
        int steps = SequenceArguments.Steps(Network.Spec, input, 1);
        if (RowSplit(1, steps, workers, ignoreThreshold: true) is not { } split) return false;
        split.Run(input, steps, 1, output, initialHidden, initialCell, finalHidden, finalCell, layerOutput);
        return true;
    }

    /// <summary>The number of workers the last B = 1 run of a large model was split across (1 when never split).</summary>
    internal int RowSplitWorkers => _rowSplit?.Workers ?? 1;

    /// <summary>The row-split team, when one was made (tests).</summary>
    internal RowSplitTeam? RowSplitTeam => _rowSplit?.Team;
}
