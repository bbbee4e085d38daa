using System.Diagnostics;

namespace StreamScoring;

/// <summary>
/// The service's own view of latency: the time each scoring request spent in the ASP.NET Core pipeline (routing,
/// body read, parse, score, response written), recorded lock-free into a pre-allocated array so recording allocates
/// nothing. The load generator resets it after its warm-up and reads the percentiles with /stats after the measured
/// phase; they leave out what the client, the loopback network and Kestrel's connection handling add.
/// </summary>
internal sealed class LatencyRecorder
{
    private readonly long[] _ticks = new long[1 << 22];
    private int _count;

    public void Record(long startTimestamp)
    {
        int index = Interlocked.Increment(ref _count) - 1;
        if (index < _ticks.Length) _ticks[index] = Stopwatch.GetTimestamp() - startTimestamp;
    }

    public void Reset() => Interlocked.Exchange(ref _count, 0);

    /// <summary>p50, p99 and p99.9 in microseconds of the requests recorded since the last reset (NaN if none).</summary>
    public (double P50, double P99, double P999) Percentiles()
    {
        int count = Math.Min(Volatile.Read(ref _count), _ticks.Length);
        if (count == 0) return (double.NaN, double.NaN, double.NaN);
        long[] sorted = _ticks[..count];
        Array.Sort(sorted);
        double At(double q) => sorted[Math.Min(count - 1, (int)Math.Ceiling(q * count) - 1)] * 1e6 / Stopwatch.Frequency;
        return (At(0.50), At(0.99), At(0.999));
    }
}
