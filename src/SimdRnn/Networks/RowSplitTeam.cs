using System.Runtime.ExceptionServices;

namespace SimdRnn.Networks;

/// <summary>Work a <see cref="RowSplitTeam"/> runs: every worker calls <see cref="Run"/> with its index, concurrently.</summary>
internal abstract class RowSplitJob
{
    /// <summary>
    /// Worker <paramref name="worker"/>'s share (0 is the calling thread). Every worker must call the team's barrier
    /// the same number of times; the code below never throws on validated arguments.
    /// </summary>
    public abstract void Run(int worker);
}

/// <summary>
/// The caller plus <c>Workers − 1</c> dedicated background threads that run one <see cref="RowSplitJob"/> at a time,
/// meeting at a <see cref="RowSplitBarrier"/> (brief spin, then block): once to start, as often as the job needs
/// inside, once at the end. Idle threads block on a kernel event; <see cref="Dispose"/> ends them. A run allocates
/// nothing.
/// </summary>
internal sealed class RowSplitTeam : IDisposable
{
    private readonly Thread[] _threads;
    private RowSplitJob? _job;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _stopping;
    private bool _disposed;

    public RowSplitTeam(int workers)
    {
        Workers = workers;
        Barrier = new RowSplitBarrier(workers);
        _threads = new Thread[workers - 1];
        for (int k = 1; k < workers; k++)
        {
            int worker = k;
            _threads[k - 1] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"SimdRnn row-split worker {worker}" };
            _threads[k - 1].Start();
        }
    }

    /// <summary>The number of workers, the calling thread included.</summary>
    public int Workers { get; }

    /// <summary>The barrier the job's workers meet at between dependent phases (time steps, layers).</summary>
    public RowSplitBarrier Barrier { get; }

    /// <summary>Whether every worker thread has ended (after <see cref="Dispose"/>; tests).</summary>
    internal bool Stopped => Array.TrueForAll(_threads, t => !t.IsAlive);

    /// <summary>Runs <paramref name="job"/> on every worker (worker 0 on this thread) and returns when all are done.</summary>
    public void Run(RowSplitJob job)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _job = job;
        Barrier.SignalAndWait(); // start
        try
        {
            job.Run(0);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
        }
        Barrier.SignalAndWait(); // end
        _job = null;
        Interlocked.Exchange(ref _failure, null)?.Throw();
    }

    private void Loop(int worker)
    {
        while (true)
        {
            Barrier.SignalAndWait();
            if (_stopping) return;
            try
            {
                _job!.Run(worker);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
            Barrier.SignalAndWait();
        }
    }

    /// <summary>Ends the worker threads (they are waiting at the start barrier) and waits for them.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stopping = true;
        Barrier.SignalAndWait(); // releases the workers from the start barrier; they see _stopping and return
        foreach (var t in _threads) t.Join();
        Barrier.Dispose();
    }
}
