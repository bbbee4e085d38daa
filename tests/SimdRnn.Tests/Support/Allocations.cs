namespace SimdRnn.Tests.Support;

/// <summary>Measures steady-state allocation on the calling thread.</summary>
public static class Allocations
{
    /// <summary>
    /// Bytes this thread allocates over <paramref name="repetitions"/> calls after a warm-up. The least of three
    /// measurements: a one-time runtime event (a tier-up of a method mid-measurement) must not count as steady state,
    /// while a real per-call allocation shows in every measurement.
    /// </summary>
    public static long Of(Action action, int repetitions = 50)
    {
        for (int k = 0; k < 100; k++) action();
        long least = long.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int k = 0; k < repetitions; k++) action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
