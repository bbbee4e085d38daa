using System.Net;
using System.Runtime;
using StreamScoring;

// A stream-scoring service: one recurrent state per stream id, each posted event stepped through a GRU with a
// sigmoid readout. Binds to 127.0.0.1 only.
//
//   dotnet run --project samples/StreamScoring -c Release -- [--engine simdrnn|onnx] [--model gru.safetensors] [--port N]
//
// --port 0 (the default) takes a free port; the service prints "Listening on http://127.0.0.1:N" once it accepts.
var options = ServiceOptions.Parse(args);
var network = ModelSource.LoadOrCreate(options.ModelPath, out string modelPath);
using IScorer scorer = options.Engine switch
{
    "simdrnn" => new SimdRnnScorer(network),
    "onnx" => new OnnxScorer(network, Path.ChangeExtension(modelPath, ".onnx")),
    _ => throw new ArgumentException($"Unknown engine '{options.Engine}' (simdrnn or onnx)."),
};

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning); // no per-request log lines on the scoring path
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Listen(IPAddress.Loopback, options.Port);
});
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJsonContext.Default));

var app = builder.Build();
var endpoints = new ScoringEndpoints(scorer);
app.Use(endpoints.TimeAsync); // first, so the server latency it records includes routing
app.UseRouting();
app.MapPost("/score/{streamId}", endpoints.ScoreAsync);
app.MapGet("/health", () => TypedResults.Json(new HealthResponse("ok", scorer.Engine), AppJsonContext.Default.HealthResponse));
app.MapGet("/stats", () => TypedResults.Json(endpoints.Stats(), AppJsonContext.Default.StatsResponse));
app.MapPost("/stats/reset", () =>
{
    endpoints.ResetLatency();
    return TypedResults.NoContent();
});

// A latency-sensitive service: no blocking gen-2 collections while serving (background ones only), and the start-up
// garbage (model load, ONNX export, host building) collected once before the first request.
GCSettings.LatencyMode = GCLatencyMode.SustainedLowLatency;
GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
await app.StartAsync();
Console.WriteLine($"Engine {scorer.Engine}, model {modelPath} ({network.Spec.Cell} I={network.Spec.InputSize} H={network.Spec.HiddenSize} O={network.Spec.OutputSize})");
foreach (string address in app.Urls) Console.WriteLine($"Listening on {address}");
await app.WaitForShutdownAsync();
