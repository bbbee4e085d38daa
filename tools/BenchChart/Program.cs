using System.Globalization;
using System.Text;
using ScottPlot;

// Reads BenchmarkDotNet CSV reports (*-report.csv) of classes that pit a `SimdRnn` method against an `OnnxRuntime`
// baseline, and draws, per workload (class + parameters), the speed-up of SimdRnn over ONNX Runtime from the medians,
// each bar labelled with the ratio and both medians, with the issue's target for the workload as a dashed mark.
//
//   dotnet run --project tools/BenchChart -- [out.png] [report.csv | folder ...]
// Defaults: docs/onnxruntime-vs-simdrnn.png and BenchmarkDotNet.Artifacts/results/*OnnxRuntime*-report.csv.

string output = args.Length > 0 ? args[0] : Path.Combine("docs", "onnxruntime-vs-simdrnn.png");
var sources = args.Length > 1 ? args[1..] : [Path.Combine("BenchmarkDotNet.Artifacts", "results")];
var files = sources.SelectMany(s => Directory.Exists(s) ? Directory.GetFiles(s, "*OnnxRuntime*-report.csv") : [s])
    .Order(StringComparer.Ordinal).ToList();
if (files.Count == 0)
{
    Console.Error.WriteLine($"No *OnnxRuntime*-report.csv in {string.Join(", ", sources)}.");
    return 1;
}

var workloads = new List<Workload>();
foreach (string file in files)
{
    var rows = Csv.Read(file);
    string kind = Path.GetFileName(file) switch
    {
        var n when n.Contains("Step", StringComparison.Ordinal) => "step",
        var n when n.Contains("Sequence", StringComparison.Ordinal) => "sequence",
        var n when n.Contains("Batch", StringComparison.Ordinal) => "batch",
        var n => n.Split('-')[0],
    };
    foreach (var group in rows.GroupBy(r => $"{r.GetValueOrDefault("Cell")} {r.GetValueOrDefault("Size")}"))
    {
        var ort = group.FirstOrDefault(r => r["Method"] == "OnnxRuntime");
        var simd = group.FirstOrDefault(r => r["Method"] == "SimdRnn");
        if (ort is null || simd is null) continue;
        string cell = ort.GetValueOrDefault("Cell", "").ToUpperInvariant();
        string size = ort.GetValueOrDefault("Size", "");
        double target = kind switch
        {
            "step" => 5,
            "sequence" => size.EndsWith("x512", StringComparison.Ordinal) ? 1.3 : 2,
            "batch" => 1.5,
            _ => double.NaN,
        };
        workloads.Add(new Workload($"{kind} {cell}\n{size.Replace("x", "→", StringComparison.Ordinal)}", Csv.Nanoseconds(ort["Median"]), Csv.Nanoseconds(simd["Median"]), target)
        {
            Order = (Array.IndexOf(["step", "sequence", "batch"], kind) + 1 is var o and > 0 ? o : 9, size.Length, size, cell),
        });
    }
}
workloads = [.. workloads.OrderBy(w => w.Order)];

var plot = new Plot();
var bars = new List<Bar>();
for (int k = 0; k < workloads.Count; k++)
{
    var w = workloads[k];
    double speedup = w.OrtNs / w.SimdNs;
    bool met = !(speedup < w.Target);
    bars.Add(new Bar
    {
        Position = k,
        Value = speedup,
        FillColor = met ? Colors.SeaGreen : Colors.IndianRed,
        Label = $"{speedup:F2}×\nORT {Csv.Format(w.OrtNs)}\nSimdRnn {Csv.Format(w.SimdNs)}",
    });
    if (!double.IsNaN(w.Target))
    {
        var mark = plot.Add.Line(k - 0.45, w.Target, k + 0.45, w.Target);
        mark.LineColor = Colors.Black;
        mark.LineWidth = 2;
        mark.LinePattern = LinePattern.Dashed;
    }
}
var barPlot = plot.Add.Bars(bars);
barPlot.ValueLabelStyle.FontSize = 11;
plot.Add.HorizontalLine(1, 1, Colors.Gray, LinePattern.Dotted);
plot.Axes.Bottom.SetTicks(Enumerable.Range(0, workloads.Count).Select(k => (double)k).ToArray(), workloads.Select(w => w.Name).ToArray());
plot.Axes.Bottom.MajorTickStyle.Length = 0;
plot.Axes.Margins(bottom: 0, top: 0.25);
plot.Title("SimdRnn vs ONNX Runtime 1.31.1 (1 thread): speed-up from BenchmarkDotNet medians");
plot.YLabel("ONNX Runtime median / SimdRnn median (× faster)");
plot.XLabel("workload (cell, I→H); green = target met, red = missed; dashed = the issue's target");
plot.SavePng(output, 1400, 720);
Console.WriteLine($"Wrote {output} from {files.Count} report(s), {workloads.Count} workloads.");
foreach (var w in workloads)
    Console.WriteLine($"{w.Name.Replace('\n', ' '),-28} ORT {Csv.Format(w.OrtNs),10}  SimdRnn {Csv.Format(w.SimdNs),10}  {w.OrtNs / w.SimdNs,6:F2}×  target {w.Target}×");
return 0;

/// <summary>One workload's medians (ns) and the speed-up the issue asks for.</summary>
internal sealed record Workload(string Name, double OrtNs, double SimdNs, double Target)
{
    /// <summary>Step, sequence, batch; smaller sizes first; then the cell.</summary>
    public (int Kind, int SizeLength, string Size, string Cell) Order { get; init; }
}

/// <summary>BenchmarkDotNet's CSV: a header row, quoted fields where needed, times with units.</summary>
internal static class Csv
{
    public static List<Dictionary<string, string>> Read(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).Select(Split).ToList();
        var header = lines[0];
        return lines.Skip(1).Select(fields => header.Zip(fields).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal)).ToList();
    }

    private static List<string> Split(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>"1,234.5 ns", "12.3 μs", "4.5 ms", "1.2 s" → nanoseconds.</summary>
    public static double Nanoseconds(string value)
    {
        string[] parts = value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double number = double.Parse(parts[0].Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        string unit = parts.Length > 1 ? parts[1] : "ns";
        return number * unit switch
        {
            "ns" => 1,
            "μs" or "us" or "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            _ => throw new FormatException($"Unknown time unit in '{value}'."),
        };
    }

    public static string Format(double ns) => ns switch
    {
        < 1e3 => $"{ns:F0} ns",
        < 1e6 => $"{ns / 1e3:F1} µs",
        < 1e9 => $"{ns / 1e6:F2} ms",
        _ => $"{ns / 1e9:F2} s",
    };
}
