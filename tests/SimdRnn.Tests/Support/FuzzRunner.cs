using System.Diagnostics;

namespace SimdRnn.Tests.Support;

/// <summary>
/// Runs a deterministic mutation fuzzer: cases 0 … n − 1 on a worker thread, each built from its number, exercised,
/// and classified. A case fails the run when it throws (the exercise catches only the documented exception), allocates
/// more than 64 × its size + 16 MB, or runs longer than the per-case limit (a watchdog on the calling thread). The run
/// stops at the time budget, after 20 failures, or when every case ran.
/// </summary>
public static class FuzzRunner
{
    /// <summary>Case k's random seed: a SplitMix64 step of (<paramref name="baseSeed"/>, k), so any case rebuilds alone.</summary>
    public static int CaseSeed(int baseSeed, int k)
    {
        ulong z = unchecked((ulong)baseSeed * 0x9E37_79B9_7F4A_7C15UL + (ulong)k * 0xBF58_476D_1CE4_E5B9UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL);
        return (int)(z ^ (z >> 31));
    }

    /// <summary>What a run did: cases done, whether the time budget stopped it, the count per outcome, failures.</summary>
    public sealed record Result(int Done, bool TimeBound, int[] Outcomes, IReadOnlyList<string> Failures, TimeSpan Elapsed);

    /// <param name="name">The worker thread's name.</param>
    /// <param name="cases">How many cases to try.</param>
    /// <param name="budget">The time budget of the whole run.</param>
    /// <param name="caseLimit">The longest one case may take.</param>
    /// <param name="outcomeKinds">How many outcome classes <paramref name="exercise"/> returns (0 … kinds − 1).</param>
    /// <param name="build">Case number → the file and the mutations that made it.</param>
    /// <param name="exercise">(case number, file) → its outcome class; throws only on a bug.</param>
    /// <param name="describe">Case number → how to reproduce it (seed and so on).</param>
    public static Result Run(string name, int cases, TimeSpan budget, TimeSpan caseLimit, int outcomeKinds,
        Func<int, (byte[] Bytes, string Description)> build, Func<int, byte[], int> exercise, Func<int, string> describe)
    {
        var failures = new List<string>();
        var outcomes = new int[outcomeKinds];
        int done = 0, current = -1;
        long caseStart = 0;
        bool stop = false, timeBound = false;
        var clock = Stopwatch.StartNew();

        var worker = new Thread(() =>
        {
            for (int k = 0; k < cases && !Volatile.Read(ref stop); k++)
            {
                if (clock.Elapsed > budget) { timeBound = true; break; }
                Volatile.Write(ref caseStart, clock.ElapsedTicks);
                Volatile.Write(ref current, k);
                (byte[] bytes, string description) = build(k);
                long before = GC.GetAllocatedBytesForCurrentThread();
                int outcome = 0;
                try
                {
                    outcome = exercise(k, bytes);
                }
#pragma warning disable CA1031 // any exception other than the documented one is exactly what a fuzz run looks for
                catch (Exception e)
#pragma warning restore CA1031
                {
                    lock (failures) failures.Add($"case {k} ({describe(k)}): {description}\n  {bytes.Length} bytes; {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                if (allocated > 64L * bytes.Length + (16 << 20))
                    lock (failures) failures.Add($"case {k} ({describe(k)}): {description}\n  {bytes.Length} bytes allocated {allocated} bytes");
                outcomes[outcome]++;
                Volatile.Write(ref done, k + 1);
                if (failures.Count >= 20) break;
            }
        })
        { IsBackground = true, Name = name };
        worker.Start();
        while (!worker.Join(100))
        {
            long startedAt = Volatile.Read(ref caseStart);
            if (TimeSpan.FromTicks((long)((clock.ElapsedTicks - startedAt) * (TimeSpan.TicksPerSecond / (double)Stopwatch.Frequency))) > caseLimit)
            {
                int k = Volatile.Read(ref current);
                Volatile.Write(ref stop, true);
                Assert.Fail($"case {k} ({describe(k)}) runs longer than {caseLimit.TotalSeconds} s: {build(k).Description}");
            }
        }
        clock.Stop();
        return new Result(done, timeBound, outcomes, failures, clock.Elapsed);
    }
}
