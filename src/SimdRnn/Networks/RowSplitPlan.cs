namespace SimdRnn.Networks;

/// <summary>
/// Whether and how a network's hidden units are split across workers: worker k owns hidden units
/// [<see cref="First"/>(k), <see cref="First"/>(k + 1)) of every layer — the rows u, H + u, 2H + u, … of W_ih and
/// W_hh that feed them (every gate of those units), so it runs the gate pass of its units right after its rows of the
/// product, without waiting for the others.
/// </summary>
/// <remarks>
/// <para>
/// <b>Bit-identical to one worker.</b> Units are split in blocks of <see cref="UnitBlock"/> = 16, and only when H is a
/// multiple of 16. Then every row block a worker multiplies starts on a multiple of 16 in the full matrix and holds a
/// multiple of 16 rows, so the GEMV kernel (eight rows per pass) treats each row exactly as the whole-matrix GEMV
/// does, with the same column count; the GEMM kernels used for more than one row sum each element in the same order
/// whatever the column count; and each worker's cell pass runs on a multiple of 16 units, whole vectors at every
/// width, while the cell math is lane-wise. RowSplitTests checks the bits.
/// </para>
/// <para>
/// <b>When it is off.</b> With fewer than two workers wanted; for H not a multiple of 16 or H &lt; 32; for the GRU's
/// ONNX form (linear_before_reset = 0), whose <c>W_hn·(r ⊙ h_prev)</c> needs r of all units (a second barrier per step;
/// not done: it runs on one worker); and below <see cref="Threshold"/> multiply-adds per step and layer, where the
/// barrier costs more than the halved product saves.
/// </para>
/// </remarks>
internal static class RowSplitPlan
{
    /// <summary>The granule of a worker's unit range.</summary>
    public const int UnitBlock = 16;

    /// <summary>
    /// The split's lower bound on G·H·(H + I) (multiply-adds of one step of layer 0 for one stream). How it was chosen:
    /// a rough Stopwatch probe (benchmarks: <c>-- rowsplit-probe</c>) on the shared 2-core development machine, under
    /// a load average of ~36 — not a publishable measurement, and its 2-worker times (~330 µs: every barrier fell
    /// through to a blocking wait) say nothing about a quiet machine. Its 1-worker times fix the scale: a GRU step took
    /// 6 µs at 64→128 (74k), 16 µs at 192→192 (221k), 34 µs at 256→256 (393k). With both cores free a barrier round
    /// trip costs well under a microsecond spinning and ~10–30 µs when a worker has to be woken, so the split is kept
    /// off until one step takes ≥ ~25 µs (≥ 3·10⁵ multiply-adds), where halving it pays even for one wake-up; 64→128
    /// stays on one thread. The lead's RowSplitBenchmarks on a quiet machine should confirm or move it.
    /// </summary>
    public const long Threshold = 300_000;

    /// <summary>
    /// The number of workers a split of <paramref name="spec"/> uses when <paramref name="requested"/> are allowed:
    /// 1 when the split is off.
    /// </summary>
    public static int Workers(RecurrentSpec spec, int requested, bool ignoreThreshold = false)
    {
        int h = spec.HiddenSize;
        if (requested < 2 || h % UnitBlock != 0 || h < 2 * UnitBlock) return 1;
        if (spec.Cell == CellKind.Gru && !spec.LinearBeforeReset) return 1;
        if (!ignoreThreshold && Work(spec) < Threshold) return 1;
        return Math.Min(requested, h / UnitBlock);
    }

    /// <summary>G·H·(H + I): the multiply-adds of one step of layer 0 for one stream.</summary>
    public static long Work(RecurrentSpec spec) => (long)spec.Gates * spec.HiddenSize * (spec.HiddenSize + spec.InputSize);

    /// <summary>The first unit of worker <paramref name="worker"/>'s range (a multiple of <see cref="UnitBlock"/>); First(workers) = H.</summary>
    public static int First(int hidden, int workers, int worker) => (int)((long)(hidden / UnitBlock) * worker / workers) * UnitBlock;
}
