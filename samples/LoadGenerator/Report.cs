using System.Globalization;
using System.Text;
using System.Text.Json;
using ScottPlot;

namespace LoadGenerator;

/// <summary>
/// Reads the runs in a results folder (*.json + *-percentiles.csv) and writes summary.csv, summary.md (a table and
/// the issue's targets) and latency.png (latency by percentile per engine). Exits 1 only when there is nothing to read.
/// </summary>
internal static class Report
{
    public static int Write(Arguments args)
    {
        string dir = args.String("out", Path.Combine("artifacts", "loadtest"));
        var runs = Directory.Exists(dir)
            ? Directory.GetFiles(dir, "*.json").Select(f => JsonSerializer.Deserialize(File.ReadAllText(f), ResultJson.Default.RunResult)!)
                .OrderBy(r => r.Engine == "simdrnn" ? 0 : 1).ThenBy(r => r.Engine, StringComparer.Ordinal).ToList()
            : [];
        if (runs.Count == 0)
        {
            Console.Error.WriteLine($"No run results (*.json) in {dir}.");
            return 1;
        }
        var inv = CultureInfo.InvariantCulture;

        var csv = new StringBuilder("engine,offered_rate,seconds,streams,sent,ok,errors,dropped,throughput,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,mean_ms,gen0,gen1,gen2,allocated_bytes,bytes_per_request,scoring_bytes_per_request,gc_pause_ms,scoring_us,server_gc,server_p50_ms,server_p99_ms,server_p999_ms,send_lag_p50_ms,send_lag_p99_ms,client_gen0,client_gen2,client_gc_pause_ms\n");
        foreach (var r in runs)
            csv.Append(inv, $"{r.Engine},{r.OfferedRate},{r.Seconds},{r.Streams},{r.Sent},{r.Ok},{r.Errors},{r.Dropped},{r.Throughput:0.#},{r.P50Ms:0.####},{r.P90Ms:0.####},{r.P99Ms:0.####},{r.P999Ms:0.####},{r.MaxMs:0.####},{r.MeanMs:0.####},{r.Gen0},{r.Gen1},{r.Gen2},{r.AllocatedBytes},{r.AllocatedBytesPerRequest:0.#},{r.ScoringAllocatedBytesPerRequest:0.##},{r.GcPauseMs:0.##},{r.MeanScoringMicroseconds:0.###},{r.ServerGc},{r.ServerP50Ms:0.####},{r.ServerP99Ms:0.####},{r.ServerP999Ms:0.####},{r.SendLagP50Ms:0.####},{r.SendLagP99Ms:0.####},{r.ClientGen0},{r.ClientGen2},{r.ClientGcPauseMs:0.##}\n");
        File.WriteAllText(Path.Combine(dir, "summary.csv"), csv.ToString());

        var md = new StringBuilder();
        md.Append("| engine | offered | throughput | p50 | p90 | p99 | p99.9 | max | gen0 / gen1 / gen2 | bytes/request (scoring) | GC pause | scoring/event |\n");
        md.Append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var r in runs)
            md.Append(inv, $"| {r.Engine} | {r.OfferedRate:0} req/s × {r.Seconds:0} s | {r.Throughput:0} req/s ({r.Ok} ok, {r.Errors} err) | {r.P50Ms:0.###} ms | {r.P90Ms:0.###} ms | {r.P99Ms:0.###} ms | {r.P999Ms:0.###} ms | {r.MaxMs:0.#} ms | {r.Gen0} / {r.Gen1} / {r.Gen2} | {r.AllocatedBytesPerRequest:0} ({r.ScoringAllocatedBytesPerRequest:0.#}) | {r.GcPauseMs:0.#} ms | {r.MeanScoringMicroseconds:0.##} µs |\n");
        var simd = runs.Find(r => r.Engine == "simdrnn");
        var onnx = runs.Find(r => r.Engine == "onnx");
        md.Append("\nInside the service (time in its ASP.NET Core pipeline: routing, body read, parse, score, response written), how late the generator sent, and the generator's own GC:\n\n");
        md.Append("| engine | server p50 | server p99 | server p99.9 | send lag p50 | send lag p99 | generator GC gen0 (gen2), pause |\n| --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var r in runs)
            md.Append(inv, $"| {r.Engine} | {r.ServerP50Ms * 1000:0.#} µs | {r.ServerP99Ms * 1000:0.#} µs | {r.ServerP999Ms * 1000:0.#} µs | {r.SendLagP50Ms * 1000:0} µs | {r.SendLagP99Ms * 1000:0} µs | {r.ClientGen0} ({r.ClientGen2}), {r.ClientGcPauseMs:0.#} ms |\n");
        md.Append('\n');
        if (simd is not null && onnx is not null)
        {
            double ratio = simd.P99Ms / onnx.P99Ms;
            md.Append(inv, $"- p99 at most half of ONNX Runtime's, end to end (as the client sees it): {(ratio <= 0.5 ? "met" : "MISSED")} (SimdRnn {simd.P99Ms:0.###} ms / ONNX Runtime {onnx.P99Ms:0.###} ms = {ratio:0.00}; target ≤ 0.50)\n");
            double inside = simd.ServerP99Ms / onnx.ServerP99Ms;
            md.Append(inv, $"- p99 at most half of ONNX Runtime's, inside the service: {(inside <= 0.5 ? "met" : "MISSED")} (SimdRnn {simd.ServerP99Ms * 1000:0.#} µs / ONNX Runtime {onnx.ServerP99Ms * 1000:0.#} µs = {inside:0.00}; target ≤ 0.50)\n");
        }
        if (simd is not null)
        {
            md.Append(inv, $"- no gen-2 collection during the SimdRnn run: {(simd.Gen2 == 0 ? "met" : "MISSED")} ({simd.Gen2} gen-2 collections in {simd.Seconds:0} s");
            md.Append(inv, $"{(simd.Seconds < 60 ? "; the target is for a 60-second run" : "")}; scoring allocated {simd.ScoringAllocatedBytesPerRequest:0.##} B/event)\n");
        }
        File.WriteAllText(Path.Combine(dir, "summary.md"), md.ToString());
        Console.Write(md);

        Chart(dir, runs);
        return 0;
    }

    /// <summary>Latency by percentile (x: 0, 90, 99, 99.9, 99.99 % evenly spaced) for every engine.</summary>
    private static void Chart(string dir, List<RunResult> runs)
    {
        var plot = new Plot();
        var palette = new[] { Colors.SeaGreen, Colors.IndianRed, Colors.SteelBlue, Colors.DarkOrange };
        double maxNines = 1;
        for (int k = 0; k < runs.Count; k++)
        {
            var r = runs[k];
            string file = Path.Combine(dir, $"{r.Engine}-percentiles.csv");
            if (!File.Exists(file)) continue;
            var points = File.ReadLines(file).Skip(1).Select(line => line.Split(','))
                .Select(f => (P: double.Parse(f[0], CultureInfo.InvariantCulture), Ms: double.Parse(f[1], CultureInfo.InvariantCulture)))
                .Where(p => p.P < 100).ToList();
            double[] xs = [.. points.Select(p => -Math.Log10(1 - p.P / 100))];
            double[] ys = [.. points.Select(p => p.Ms)];
            maxNines = Math.Max(maxNines, xs.Length > 0 ? xs.Max() : 1);
            var line = plot.Add.ScatterLine(xs, ys, palette[k % palette.Length]);
            line.LineWidth = 2;
            line.LegendText = string.Create(CultureInfo.InvariantCulture,
                $"{r.Engine}: p50 {r.P50Ms:0.##} ms, p99 {r.P99Ms:0.##} ms, p99.9 {r.P999Ms:0.##} ms, {r.Throughput:0} req/s");
        }
        var ticks = new List<(double, string)>();
        for (int n = 0; n <= (int)Math.Ceiling(maxNines); n++)
            ticks.Add((n, n == 0 ? "0%" : (100 - Math.Pow(10, 2 - n)).ToString("0.#####", CultureInfo.InvariantCulture) + "%"));
        plot.Axes.Bottom.SetTicks([.. ticks.Select(t => t.Item1)], [.. ticks.Select(t => t.Item2)]);
        plot.Axes.Left.Label.Text = "latency (ms, from the scheduled send time)";
        plot.Axes.Bottom.Label.Text = "percentile";
        var first = runs[0];
        plot.Title(string.Create(CultureInfo.InvariantCulture,
            $"StreamScoring, POST /score/{{id}}: {first.OfferedRate:0} req/s offered for {first.Seconds:0} s, {first.Streams} streams, {Environment.ProcessorCount} cores, loopback"));
        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.Axes.SetLimitsY(0, runs.Max(r => double.IsNaN(r.MaxMs) ? 1 : Math.Min(r.MaxMs, 4 * r.P999Ms)) * 1.1);
        plot.SavePng(Path.Combine(dir, "latency.png"), 1100, 600);
    }
}
