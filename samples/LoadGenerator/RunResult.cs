using System.Globalization;
using System.Text.Json.Serialization;

namespace LoadGenerator;

/// <summary>
/// One run's results. Latencies in milliseconds from each request's due time; throughput = answered requests per
/// second of the run (schedule + drain). GC counts are deltas of the service's GC.CollectionCount over the measured
/// phase (as .NET counts them: a gen-1 collection counts in gen 0 too, a gen-2 in both). SendLag: how late the
/// generator's scheduling thread sent requests (included in the latencies). Server: the service's own measure of the
/// time a request spent in its ASP.NET Core pipeline (routing, body read, parse, score, response written), without the
/// client, the loopback and Kestrel's connection handling.
/// Client*: the load generator's own collections and GC pause during the measured phase (they delay responses too).
/// </summary>
internal sealed record RunResult(
    string Engine, double OfferedRate, double Seconds, int Streams, int Sent, int Ok, int Errors, int Dropped,
    double Throughput, double P50Ms, double P90Ms, double P99Ms, double P999Ms, double MaxMs, double MeanMs,
    int Gen0, int Gen1, int Gen2, long AllocatedBytes, double AllocatedBytesPerRequest, double ScoringAllocatedBytesPerRequest,
    double GcPauseMs, double MeanScoringMicroseconds, bool ServerGc, double SendLagP50Ms = double.NaN, double SendLagP99Ms = double.NaN,
    double ServerP50Ms = double.NaN, double ServerP99Ms = double.NaN, double ServerP999Ms = double.NaN,
    int ClientGen0 = 0, int ClientGen2 = 0, double ClientGcPauseMs = double.NaN)
{
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"[{Engine}] {Ok}/{Sent} ok, {Errors} errors, {Dropped} dropped; {Throughput:0} req/s; p50 {P50Ms:0.###} ms, p99 {P99Ms:0.###} ms, p99.9 {P999Ms:0.###} ms, max {MaxMs:0.###} ms; " +
        $"GC gen0/1/2 {Gen0}/{Gen1}/{Gen2}, {AllocatedBytesPerRequest:0} B/request ({ScoringAllocatedBytesPerRequest:0.#} in scoring), GC pause {GcPauseMs:0.#} ms; scoring {MeanScoringMicroseconds:0.##} µs/event; " +
        $"in the server p50 {ServerP50Ms * 1000:0} µs, p99 {ServerP99Ms * 1000:0} µs, p99.9 {ServerP999Ms * 1000:0} µs; the generator sent {SendLagP50Ms * 1000:0} µs (p50) / {SendLagP99Ms * 1000:0} µs (p99) after the due time; " +
        $"the generator's own GC: {ClientGen0} gen-0 ({ClientGen2} gen-2), {ClientGcPauseMs:0.#} ms paused");
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(RunResult))]
internal sealed partial class ResultJson : JsonSerializerContext;
