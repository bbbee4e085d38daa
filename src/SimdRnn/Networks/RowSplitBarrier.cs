using System.Diagnostics;

namespace SimdRnn.Networks;

/// <summary>
/// A reusable barrier for a fixed team of threads that meet thousands of times a second (once per time step): each
/// arrival spins briefly, then blocks on a kernel event, so a short wait costs no system call and a long one (the
/// team idle between runs) costs no CPU.
/// </summary>
/// <remarks>
/// <para>
/// Phases are counted. An arriving thread reads the phase, then decrements the count of threads still missing. The
/// last to arrive resets the count, resets the event the phase after next will use, advances the phase and sets this
/// phase's event. The others watch the phase for at most <see cref="SpinTicks"/> (about 50 µs) — with
/// <see cref="Thread.SpinWait(int)"/>, a pause loop that leaves the sibling hyper-thread its share — and then wait on
/// this phase's event. Two events alternate by phase parity. Resetting the event of phase p + 2 when phase p + 1
/// completes is safe: every thread has by then arrived at phase p + 1, so none is still waiting on phase p's event.
/// </para>
/// <para>
/// So a thread spins at most ~50 µs per arrival: after the last barrier of a run, CPU use falls to zero well within
/// a millisecond (RowSplitTests measures the workers' own CPU time after a run).
/// </para>
/// </remarks>
internal sealed class RowSplitBarrier : IDisposable
{
    /// <summary>How long an arrival spins before it blocks: 50 µs in Stopwatch ticks.</summary>
    internal static readonly long SpinTicks = Stopwatch.Frequency / 20_000;

    private readonly ManualResetEventSlim[] _events = [new(false, spinCount: 1), new(false, spinCount: 1)];
    private readonly int _participants;
    private int _remaining;
    private int _phase;

    public RowSplitBarrier(int participants)
    {
        _participants = participants;
        _remaining = participants;
    }

    /// <summary>The number of threads that meet at each phase.</summary>
    public int Participants => _participants;

    /// <summary>Arrives and waits until every participant has arrived at this phase.</summary>
    public void SignalAndWait()
    {
        int phase = Volatile.Read(ref _phase);
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            // The last arrival: re-arm the count and the event of the next phase, then release this phase.
            Volatile.Write(ref _remaining, _participants);
            _events[(phase + 1) & 1].Reset();
            Volatile.Write(ref _phase, phase + 1);
            _events[phase & 1].Set();
            return;
        }

        long start = Stopwatch.GetTimestamp();
        do
        {
            if (Volatile.Read(ref _phase) != phase) return;
            Thread.SpinWait(16);
        }
        while (Stopwatch.GetTimestamp() - start < SpinTicks);
        _events[phase & 1].Wait();
    }

    public void Dispose()
    {
        foreach (var e in _events) e.Dispose();
    }
}
