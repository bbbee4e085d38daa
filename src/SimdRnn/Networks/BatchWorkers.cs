using System.Runtime.ExceptionServices;

namespace SimdRnn.Networks;

/// <summary>
/// A fixed set of background threads that run parts of one batch in parallel with the calling thread. Idle workers
/// block on a kernel event (no spinning); a run allocates nothing: the work is one delegate given at construction,
/// called with the part index.
/// </summary>
internal sealed class BatchWorkers : IDisposable
{
    private readonly Action<int> _work;
    private readonly Thread[] _threads;
    private readonly AutoResetEvent[] _start;
    private readonly CountdownEvent _done;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _stopping;

    /// <summary>Starts <paramref name="workers"/> threads; part k + 1 of a run goes to thread k, part 0 to the caller.</summary>
    public BatchWorkers(int workers, Action<int> work)
    {
        _work = work;
        _start = new AutoResetEvent[workers];
        _threads = new Thread[workers];
        _done = new CountdownEvent(1);
        for (int k = 0; k < workers; k++)
        {
            _start[k] = new AutoResetEvent(false);
            int part = k + 1;
            _threads[k] = new Thread(() => Loop(part)) { IsBackground = true, Name = $"SimdRnn batch worker {part}" };
            _threads[k].Start();
        }
    }

    public int Workers => _threads.Length;

    /// <summary>Runs parts 0 … <paramref name="parts"/> − 1 (at most Workers + 1): part 0 on this thread, the rest on workers.</summary>
    public void Run(int parts)
    {
        _done.Reset(parts - 1);
        for (int p = 1; p < parts; p++) _start[p - 1].Set();
        try
        {
            _work(0);
        }
        finally
        {
            if (parts > 1) _done.Wait();
        }
        var failure = Interlocked.Exchange(ref _failure, null);
        failure?.Throw();
    }

    private void Loop(int part)
    {
        var start = _start[part - 1];
        while (true)
        {
            start.WaitOne();
            if (_stopping) return;
            try
            {
                _work(part);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
            finally
            {
                _done.Signal();
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var e in _start) e.Set();
        foreach (var t in _threads) t.Join();
        foreach (var e in _start) e.Dispose();
        _done.Dispose();
    }
}
