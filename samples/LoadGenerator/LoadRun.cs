using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LoadGenerator;

/// <summary>One open-loop run against one service: warm-up, /stats, the measured schedule, /stats, results.</summary>
internal static class LoadRun
{
    /// <summary>Requests still unanswered beyond this many are not sent (counted as dropped, and the run fails).</summary>
    internal const int MaxInFlight = 20_000;

    public static async Task<int> RunAsync(Arguments args)
    {
        var baseUri = new Uri(args.String("url"));
        if (!IPAddress.TryParse(baseUri.Host, out var address) || !IPAddress.IsLoopback(address))
            throw new ArgumentException($"--url must be a loopback address such as http://127.0.0.1:PORT (got {baseUri}).");
        string label = args.String("label");
        double seconds = args.Number("seconds", 60), rate = args.Number("rate", 2000), warmup = args.Number("warmup", 5);
        int streams = (int)args.Number("streams", 1000), features = (int)args.Number("features", 16);
        string outDir = args.String("out", Path.Combine("artifacts", "loadtest"));
        if (seconds <= 0 || rate <= 0 || streams <= 0 || warmup < 0) throw new ArgumentException("--seconds, --rate and --streams must be positive.");
        Directory.CreateDirectory(outDir);

        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = 256,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        using var client = new HttpClient(handler) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        var load = new Schedule(client, streams, features);

        if (warmup > 0)
        {
            Console.WriteLine($"[{label}] warm-up {warmup:0.#} s at {rate:0} req/s");
            var warm = await load.RunAsync(rate, warmup).ConfigureAwait(false);
            if (warm.Errors > 0) Console.WriteLine($"[{label}] warm-up: {warm.Errors} errors ({warm.FirstError})");
        }
        using (var reset = await client.PostAsync(new Uri("stats/reset", UriKind.Relative), null).ConfigureAwait(false)) reset.EnsureSuccessStatusCode();
        var before = await Stats(client).ConfigureAwait(false);
        Console.WriteLine($"[{label}] measuring {seconds:0.#} s at {rate:0} req/s over {streams} streams");
        int clientGen0 = GC.CollectionCount(0), clientGen2 = GC.CollectionCount(2);
        var clientPause = GC.GetTotalPauseDuration();
        var run = await load.RunAsync(rate, seconds).ConfigureAwait(false);
        clientGen0 = GC.CollectionCount(0) - clientGen0;
        clientGen2 = GC.CollectionCount(2) - clientGen2;
        double clientPauseMs = (GC.GetTotalPauseDuration() - clientPause).TotalMilliseconds;
        var after = await Stats(client).ConfigureAwait(false);

        var ok = run.Latencies;
        Array.Sort(ok);
        Array.Sort(run.SendLags);
        double P(double q) => Quantile(ok, q);
        long scored = after.Scored - before.Scored;
        var result = new RunResult(
            label, rate, seconds, streams, run.Sent, ok.Length, run.Errors, run.Dropped,
            ok.Length / run.ElapsedSeconds,
            P(0.50), P(0.90), P(0.99), P(0.999), ok.Length == 0 ? double.NaN : Milliseconds(ok[^1]),
            ok.Length == 0 ? double.NaN : ok.Average(Milliseconds),
            after.Gen0 - before.Gen0, after.Gen1 - before.Gen1, after.Gen2 - before.Gen2,
            after.AllocatedBytes - before.AllocatedBytes,
            scored == 0 ? 0 : (after.AllocatedBytes - before.AllocatedBytes) / (double)scored,
            scored == 0 ? 0 : (after.ScoringAllocatedBytes - before.ScoringAllocatedBytes) / (double)scored,
            after.GcPauseMs - before.GcPauseMs,
            after.MeanScoringMicroseconds, after.ServerGc,
            Quantile(run.SendLags, 0.50), Quantile(run.SendLags, 0.99),
            after.ServerP50Us / 1000, after.ServerP99Us / 1000, after.ServerP999Us / 1000,
            clientGen0, clientGen2, clientPauseMs);
        File.WriteAllText(Path.Combine(outDir, $"{label}.json"), JsonSerializer.Serialize(result, ResultJson.Default.RunResult));
        WritePercentiles(Path.Combine(outDir, $"{label}-percentiles.csv"), ok);
        Console.WriteLine(result.Describe());
        if (run.Errors > 0) Console.WriteLine($"[{label}] first error: {run.FirstError}");
        return run.Errors == 0 && run.Dropped == 0 && ok.Length > 0 ? 0 : 1;
    }

    /// <summary>The q-quantile of <paramref name="sorted"/> (ticks, ascending) in milliseconds; NaN when empty.</summary>
    private static double Quantile(long[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : Milliseconds(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)]);

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    /// <summary>The latency at percentiles spaced evenly in log(1/(1-p)), from 0 up to the last request.</summary>
    private static void WritePercentiles(string path, long[] sorted)
    {
        var text = new StringBuilder("percentile,latency_ms\n");
        if (sorted.Length > 0)
        {
            double maxNines = Math.Log10(sorted.Length);
            for (int k = 0; k <= 400; k++)
            {
                double p = 1 - Math.Pow(10, -maxNines * k / 400);
                int index = Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1);
                text.Append(CultureInfo.InvariantCulture, $"{p * 100:0.#######},{Milliseconds(sorted[index]):0.####}\n");
            }
        }
        File.WriteAllText(path, text.ToString());
    }

    private static async Task<ServiceStats> Stats(HttpClient client)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("stats", UriKind.Relative)).ConfigureAwait(false));
        var root = document.RootElement;
        return new ServiceStats(
            root.GetProperty("gen0Collections").GetInt32(), root.GetProperty("gen1Collections").GetInt32(), root.GetProperty("gen2Collections").GetInt32(),
            root.GetProperty("allocatedBytes").GetInt64(), root.GetProperty("gcPauseMs").GetDouble(), root.GetProperty("scored").GetInt64(),
            root.GetProperty("scoringAllocatedBytes").GetInt64(), root.GetProperty("meanScoringMicroseconds").GetDouble(), root.GetProperty("serverGc").GetBoolean(),
            Number(root, "serverP50Microseconds"), Number(root, "serverP99Microseconds"), Number(root, "serverP999Microseconds"));
    }

    /// <summary>A number that may be written as "NaN" (no requests recorded).</summary>
    private static double Number(JsonElement root, string name)
    {
        var value = root.GetProperty(name);
        return value.ValueKind == JsonValueKind.Number ? value.GetDouble() : double.NaN;
    }

    private sealed record ServiceStats(int Gen0, int Gen1, int Gen2, long AllocatedBytes, double GcPauseMs, long Scored, long ScoringAllocatedBytes, double MeanScoringMicroseconds, bool ServerGc,
        double ServerP50Us, double ServerP99Us, double ServerP999Us);
}

/// <summary>
/// Sends POST /score/s{k} (k round-robin over the streams) with a {"features":[...]} body on a fixed schedule from a
/// dedicated thread, and records each request's latency from its due time.
/// </summary>
internal sealed class Schedule(HttpClient client, int streams, int features)
{
    private readonly Uri[] _paths = [.. Enumerable.Range(0, streams).Select(k => new Uri($"score/s{k}", UriKind.Relative))];
    private readonly byte[][] _bodies = Bodies(features);
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    public sealed record Outcome(int Sent, long[] Latencies, long[] SendLags, int Errors, int Dropped, string? FirstError, double ElapsedSeconds);

    public async Task<Outcome> RunAsync(double rate, double seconds)
    {
        int total = (int)Math.Round(rate * seconds);
        long[] latencies = new long[total];
        bool[] succeeded = new bool[total];
        long[] lag = new long[total];
        // inFlight counts the requests not yet answered plus one hold of the scheduler's, released once it has sent
        // everything: whoever takes it to 0 completes `drained`.
        int errors = 0, dropped = 0, inFlight = 1, sent = 0;
        string? firstError = null;
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        double period = Stopwatch.Frequency / rate;
        long start = Stopwatch.GetTimestamp();

        async Task SendAsync(int i, long due)
        {
            try
            {
                using var content = new ByteArrayContent(_bodies[i % _bodies.Length]);
                content.Headers.ContentType = s_json;
                using var response = await client.PostAsync(_paths[i % _paths.Length], content).ConfigureAwait(false);
                _ = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                latencies[i] = Stopwatch.GetTimestamp() - due;
                if (response.IsSuccessStatusCode) succeeded[i] = true;
                else Fail($"HTTP {(int)response.StatusCode}");
            }
#pragma warning disable CA1031 // any failure of a request is counted and reported, never thrown
            catch (Exception e)
#pragma warning restore CA1031
            {
                Fail(e.GetType().Name + ": " + e.Message);
            }
            finally
            {
                if (Interlocked.Decrement(ref inFlight) == 0) drained.TrySetResult();
            }
        }

        void Fail(string message)
        {
            Interlocked.Increment(ref errors);
            Interlocked.CompareExchange(ref firstError, message, null);
        }

        var scheduler = new Thread(() =>
        {
            PreciseClock.MinimizeTimerSlack();
            for (int i = 0; i < total; i++)
            {
                long due = start + (long)(i * period);
                PreciseClock.WaitUntil(due);
                lag[i] = Stopwatch.GetTimestamp() - due;
                if (Volatile.Read(ref inFlight) - 1 >= LoadRun.MaxInFlight)
                {
                    dropped++;
                    continue;
                }
                Interlocked.Increment(ref inFlight);
                sent++;
                _ = SendAsync(i, due);
            }
        })
        { IsBackground = true, Name = "schedule", Priority = ThreadPriority.AboveNormal };
        scheduler.Start();
        scheduler.Join();
        if (Interlocked.Decrement(ref inFlight) == 0) drained.TrySetResult();
        await drained.Task.ConfigureAwait(false);
        double elapsed = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
        long[] ok = [.. latencies.Where((_, i) => succeeded[i])];
        long[] lags = [.. lag.Where((_, i) => succeeded[i])];
        return new Outcome(sent, ok, lags, errors, dropped, firstError, elapsed);
    }

    private static byte[][] Bodies(int features)
    {
        var random = new Random(7);
        var bodies = new byte[64][];
        for (int b = 0; b < bodies.Length; b++)
        {
            var text = new StringBuilder("{\"features\":[");
            for (int k = 0; k < features; k++)
                text.Append(CultureInfo.InvariantCulture, $"{(k > 0 ? "," : "")}{random.NextDouble() * 2 - 1:0.####}");
            bodies[b] = Encoding.UTF8.GetBytes(text.Append("]}").ToString());
        }
        return bodies;
    }
}
