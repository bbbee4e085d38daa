using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LoadGenerator;

/// <summary>
/// Waits until a <see cref="Stopwatch"/> timestamp. <c>Thread.Sleep(1)</c> wakes 1–1.1 ms late on Linux, and an
/// open-loop generator counts that lateness as latency (request i is timed from its due time); on Linux the wait is
/// <c>clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)</c> instead — the clock Stopwatch reads — which wakes within the
/// kernel's timer slack, without spinning on the cores the service needs. <see cref="MinimizeTimerSlack"/> lowers
/// the calling thread's slack from the default 50 µs to 1 µs.
/// </summary>
internal static partial class PreciseClock
{
    private const int ClockMonotonic = 1;
    private const int TimerAbsolute = 1;

    private static readonly bool s_monotonicNanoseconds = OperatingSystem.IsLinux() && Stopwatch.Frequency == 1_000_000_000;

    private const int PrSetTimerSlack = 29;

    /// <summary>Linux: the calling thread's timer slack to 1 µs (prctl PR_SET_TIMERSLACK); elsewhere nothing.</summary>
    public static void MinimizeTimerSlack()
    {
        if (OperatingSystem.IsLinux()) _ = Prctl(PrSetTimerSlack, 1000, 0, 0, 0);
    }

    public static void WaitUntil(long timestamp)
    {
        if (s_monotonicNanoseconds)
        {
            var due = new TimeSpec { Seconds = timestamp / 1_000_000_000, Nanoseconds = timestamp % 1_000_000_000 };
            // EINTR (a signal) returns early: the loop below re-checks the clock.
            while (Stopwatch.GetTimestamp() < timestamp && ClockNanosleep(ClockMonotonic, TimerAbsolute, in due, IntPtr.Zero) != 0)
            {
            }
            return;
        }
        while (Stopwatch.GetTimestamp() < timestamp) Thread.Sleep(1);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clockId, int flags, in TimeSpec request, IntPtr remaining);
}
