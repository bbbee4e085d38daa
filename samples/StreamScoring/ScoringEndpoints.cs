using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text.Json;
using System.Runtime;
using System.Text.Json.Serialization;

namespace StreamScoring;

/// <summary>
/// POST /score/{streamId} on the pipe API: the body is read from Kestrel's pooled buffers and parsed in place with a
/// <see cref="Utf8JsonReader"/> into a stack buffer; the response is serialized (source-generated) into a reused
/// per-thread buffer and written with its Content-Length. No per-request arrays, strings or DTO objects beyond what
/// ASP.NET Core itself allocates (the route value, the HttpContext's features).
/// </summary>
internal sealed class ScoringEndpoints(IScorer scorer)
{
    /// <summary>A body of 16 floats is ~200 bytes; anything over this is refused (413).</summary>
    private const int MaxBodyBytes = 16 * 1024;

    [ThreadStatic]
    private static ResponseBuffer? t_response;

    private long _scored;
    private long _scoringTicks;
    private long _rejected;
    private long _scoringAllocatedBytes;
    private readonly LatencyRecorder _serverLatency = new();

    /// <summary>
    /// Middleware, first in the pipeline (before routing): times every POST /score/… request from its entry into the
    /// pipeline to the end of its response (routing, the endpoint, the flush) into the <see cref="LatencyRecorder"/>.
    /// </summary>
    public async Task TimeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.Path.StartsWithSegments("/score", StringComparison.Ordinal))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        long start = Stopwatch.GetTimestamp();
        await next(context).ConfigureAwait(false);
        _serverLatency.Record(start);
    }

    public async Task ScoreAsync(HttpContext context)
    {
        string? streamId = context.Request.RouteValues["streamId"] as string;
        PipeReader reader = context.Request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            if (read.IsCompleted || read.Buffer.Length > MaxBodyBytes) break;
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
        bool tooLarge = !read.IsCompleted;
        float score = 0;
        bool ok = !tooLarge && !string.IsNullOrEmpty(streamId) && TryScore(streamId, read.Buffer, out score);
        reader.AdvanceTo(read.Buffer.End);
        if (!ok)
        {
            Interlocked.Increment(ref _rejected);
            context.Response.StatusCode = tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest;
            return;
        }

        var response = t_response ??= new ResponseBuffer();
        ReadOnlyMemory<byte> json = response.Write(score);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = json.Length;
        context.Response.BodyWriter.Write(json.Span); // copied into Kestrel's buffer before any await
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Parses {"features":[I floats]} and steps the stream; false when the body is not that.</summary>
    private bool TryScore(string streamId, ReadOnlySequence<byte> body, out float score)
    {
        score = 0;
        int size = scorer.InputSize;
        Span<float> features = size <= 256 ? stackalloc float[size] : new float[size];
        if (!TryParse(body, features)) return false;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        score = scorer.Score(streamId, features);
        Interlocked.Add(ref _scoringTicks, Stopwatch.GetTimestamp() - start);
        Interlocked.Add(ref _scoringAllocatedBytes, GC.GetAllocatedBytesForCurrentThread() - allocated);
        Interlocked.Increment(ref _scored);
        return true;
    }

    internal static bool TryParse(ReadOnlySequence<byte> body, Span<float> features)
    {
        try
        {
            var json = new Utf8JsonReader(body);
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject) return false;
            bool found = false;
            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                if (!json.ValueTextEquals("features"u8))
                {
                    json.Read();
                    json.Skip();
                    continue;
                }
                if (!json.Read() || json.TokenType != JsonTokenType.StartArray) return false;
                int count = 0;
                while (json.Read() && json.TokenType == JsonTokenType.Number)
                {
                    if (count == features.Length || !json.TryGetSingle(out float value) || !float.IsFinite(value)) return false;
                    features[count++] = value;
                }
                if (json.TokenType != JsonTokenType.EndArray || count != features.Length) return false;
                found = true;
            }
            return found && json.TokenType == JsonTokenType.EndObject;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Restarts the server-latency percentiles that /stats reports (the load generator calls this after its warm-up).</summary>
    public void ResetLatency() => _serverLatency.Reset();

    public StatsResponse Stats()
    {
        var (p50, p99, p999) = _serverLatency.Percentiles();
        long scored = Interlocked.Read(ref _scored);
        double scoringUs = scored == 0 ? 0 : Interlocked.Read(ref _scoringTicks) * 1e6 / Stopwatch.Frequency / scored;
        return new StatsResponse(
            scorer.Engine,
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            GC.GetTotalAllocatedBytes(precise: false),
            GC.GetTotalPauseDuration().TotalMilliseconds,
            scored, Interlocked.Read(ref _rejected), scorer.Streams, scoringUs, Interlocked.Read(ref _scoringAllocatedBytes),
            GCSettings.IsServerGC, p50, p99, p999);
    }

    /// <summary>A reused buffer and writer for {"score": x}.</summary>
    private sealed class ResponseBuffer
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(64);
        private readonly Utf8JsonWriter _writer;

        public ResponseBuffer() => _writer = new Utf8JsonWriter(_buffer);

        public ReadOnlyMemory<byte> Write(float score)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            JsonSerializer.Serialize(_writer, new ScoreResponse(score), AppJsonContext.Default.ScoreResponse);
            return _buffer.WrittenMemory;
        }
    }
}

/// <summary>The request body's shape (parsed in place by <see cref="ScoringEndpoints"/>; here for documentation and clients).</summary>
internal sealed record ScoreRequest(float[] Features);

/// <summary>The response: the readout's first output for this event.</summary>
internal readonly record struct ScoreResponse(float Score);

internal sealed record HealthResponse(string Status, string Engine);

/// <summary>
/// What the process did so far: GC.CollectionCount per generation (as .NET counts them: a gen-1 collection also
/// counts in gen 0, a gen-2 in both), allocated bytes, total GC pause, events scored, mean time inside the scorer and the bytes allocated inside it
/// (new streams' states included), and the percentiles of the time scoring requests spent in the server's pipeline
/// (<see cref="ScoringEndpoints.TimeAsync"/>) since the last POST /stats/reset.
/// </summary>
internal sealed record StatsResponse(
    string Engine, int Gen0Collections, int Gen1Collections, int Gen2Collections, long AllocatedBytes, double GcPauseMs,
    long Scored, long Rejected, int Streams, double MeanScoringMicroseconds, long ScoringAllocatedBytes, bool ServerGc,
    double ServerP50Microseconds, double ServerP99Microseconds, double ServerP999Microseconds);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ScoreRequest))]
[JsonSerializable(typeof(ScoreResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(StatsResponse))]
internal sealed partial class AppJsonContext : JsonSerializerContext;
