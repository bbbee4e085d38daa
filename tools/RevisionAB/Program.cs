using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;

// A/B of two builds of SimdRnn in one process: each build is loaded into its own AssemblyLoadContext and both run the
// same workload (same spec, seed and input) in alternating slices of a few milliseconds, the order swapped every round,
// so that the VM's drift (1.5–1.8× within minutes here) hits both alike. Prints each build's median time per call and
// the median of the per-round ratios A/B (> 1: B is faster). scripts/revision-ab.sh builds a revision and runs the set.
//
//   RevisionAB A.dll B.dll step|sequence|batch|batch2|train|parallel gru|gru0|lstm IxH [fp32|BFloat16|Int8] [rounds]
//     (batch2: the batch on two threads, the batch-parallel path's parts of 32 streams)
//     (sequence: T = 100, B = 1; batch: T = 64, B = 64, as in the ONNX Runtime comparison; parallel: T = 100, B = 2
//     on two threads, one stream per part of the batch-parallel path, for models large enough to take it,
//     T·B·G·H·(I + H) ≥ 2·10⁶, e.g. 512x512; train: one forward and
//     backward pass of a RecurrentTrainer over the batch's T and B, fp32; gru0: the GRU with linear_before_reset = 0,
//     ONNX's default form)
//   RevisionAB A.dll B.dll gemm - MxNxK [-] [rounds]      (C += A·B, the public Gemm.MultiplyAccumulate)
//
// Only public API is called (RecurrentNetwork.CreateRandom, CreateState/Step, CreateSession/Run), through reflection
// once at set-up and delegates after, so both builds' calls cost the same.
if (args.Length >= 5 && args[2] == "gemm")
    return Kernels.Gemm(args);
if (args.Length < 5 || args[2] is not ("step" or "sequence" or "batch" or "batch2" or "train" or "parallel") || args[3] is not ("gru" or "gru0" or "lstm"))
{
    Console.Error.WriteLine("usage: RevisionAB A.dll B.dll step|sequence|batch|batch2|train|parallel gru|gru0|lstm IxH [fp32|BFloat16|Int8] [rounds]");
    return 2;
}
string workload = args[2], cell = args[3], size = args[4], format = args.Length > 5 ? args[5] : "fp32";
int rounds = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 41;
int inputs = int.Parse(size.Split('x')[0], CultureInfo.InvariantCulture), hidden = int.Parse(size.Split('x')[1], CultureInfo.InvariantCulture);
// T and B as in the ONNX Runtime comparison.
bool batched = workload is "batch" or "batch2" or "train";
int steps = batched ? 64 : 100, batch = batched ? 64 : workload == "parallel" ? 2 : 1;
bool large = hidden >= 512 || batched || workload == "parallel";
int callsPerSlice = workload == "step" ? 200 : large ? 1 : 4;

var slices = new Action[2];
for (int v = 0; v < 2; v++)
{
    var assembly = new AssemblyLoadContext("build" + v).LoadFromAssemblyPath(Path.GetFullPath(args[v]));
    Type Type(string name) => assembly.GetType("SimdRnn.Networks." + name, throwOnError: true)!;
    object spec = Activator.CreateInstance(Type("RecurrentSpec"), Enum.Parse(Type("CellKind"), cell == "lstm" ? "Lstm" : "Gru"), inputs, hidden)!;
    if (cell == "gru0") // ONNX's default GRU form
        (spec.GetType().GetProperty("LinearBeforeReset") ?? throw new InvalidOperationException($"{args[v]} has no RecurrentSpec.LinearBeforeReset"))
            .SetValue(spec, false);
    Type networkType = Type("RecurrentNetwork");
    object network = networkType.GetMethod("CreateRandom")!.Invoke(null, [spec, 42])!;
    if (format != "fp32")
        network = networkType.GetMethod("WithWeightFormat")!.Invoke(network, [Enum.Parse(Type("WeightPrecision"), format)])!;
    var x = new float[(workload == "step" ? 1 : steps * batch) * inputs];
    for (int i = 0; i < x.Length; i++) x[i] = (float)Math.Sin(0.37 * i);
    if (workload == "step")
    {
        object state = networkType.GetMethod("CreateState")!.Invoke(network, [1])!;
        var step = state.GetType().GetMethod("Step")!.CreateDelegate<StepCall>(state);
        var y = new float[hidden];
        slices[v] = () => { for (int k = 0; k < callsPerSlice; k++) step(x, y); };
    }
    else if (workload == "train")
    {
        Type trainerType = assembly.GetType("SimdRnn.Training.RecurrentTrainer", throwOnError: true)!;
        object trainer = Activator.CreateInstance(trainerType, network, null)!;
        var forward = trainerType.GetMethods().First(m => m.Name == "Forward" && m.GetParameters()[2].ParameterType == typeof(ReadOnlySpan<float>))
            .CreateDelegate<TrainForwardCall>(trainer);
        var backward = trainerType.GetMethod("Backward")!.CreateDelegate<TrainBackwardCall>(trainer);
        var dy = new float[steps * batch * hidden];
        for (int i = 0; i < dy.Length; i++) dy[i] = (float)Math.Cos(0.11 * i) * 1e-3f;
        slices[v] = () => { for (int k = 0; k < callsPerSlice; k++) { forward(x, batch, default, default); backward(dy, default, default, default); } };
    }
    else
    {
        object session = networkType.GetMethod("CreateSession")!.Invoke(network, null)!;
        // One core each: builds that can split one sequence across cores (issue 13) do so only when asked.
        session.GetType().GetProperty("MaxDegreeOfParallelism")?.SetValue(session, workload is "parallel" or "batch2" ? 2 : 1);
        MethodInfo method = session.GetType().GetMethods().First(m => m.Name == "Run" && m.GetParameters()[2].ParameterType == typeof(Span<float>));
        var run = method.CreateDelegate<RunCall>(session);
        var y = new float[steps * batch * hidden];
        slices[v] = () => { for (int k = 0; k < callsPerSlice; k++) run(x, batch, y, default, default, default, default, default); };
    }
}

// Warm-up: both builds' methods reach their optimized tier.
var warm = Stopwatch.StartNew();
while (warm.Elapsed.TotalSeconds < 2) { slices[0](); slices[1](); }

const int SlicesPerRound = 20;
var times = new[] { new List<double>(), new List<double>() };
var ratios = new List<double>();
var watch = new Stopwatch();
for (int r = 0; r < rounds; r++)
{
    var elapsed = new double[2];
    for (int k = 0; k < 2; k++)
    {
        int v = (r & 1) == 0 ? k : 1 - k; // A first on even rounds, B first on odd ones
        watch.Restart();
        for (int s = 0; s < SlicesPerRound; s++) slices[v]();
        elapsed[v] = watch.Elapsed.TotalMicroseconds / (SlicesPerRound * callsPerSlice);
    }
    times[0].Add(elapsed[0]);
    times[1].Add(elapsed[1]);
    ratios.Add(elapsed[0] / elapsed[1]);
}
static double Median(List<double> values) { var sorted = values.Order().ToList(); return sorted[sorted.Count / 2]; }
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{workload} {cell} {size} {format}: A {Median(times[0]):0.000} µs, B {Median(times[1]):0.000} µs, A/B {Median(ratios):0.000} (median of {rounds} rounds)"));
return 0;

internal static class Kernels
{
    public static int Gemm(string[] args)
    {
        int[] shape = args[4].Split('x').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        int m = shape[0], n = shape[1], k = shape[2];
        int rounds = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 41;
        var calls = new GemmCall[2];
        for (int v = 0; v < 2; v++)
        {
            var assembly = new AssemblyLoadContext("build" + v).LoadFromAssemblyPath(Path.GetFullPath(args[v]));
            calls[v] = assembly.GetType("SimdRnn.Kernels.Gemm", throwOnError: true)!.GetMethod("MultiplyAccumulate")!.CreateDelegate<GemmCall>();
        }
        float[] a = Fill(m * k, 1), b = Fill(k * n, 2), c = new float[m * n];
        var watch = new Stopwatch();
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 2) { calls[0](a, m, k, b, n, c); calls[1](a, m, k, b, n, c); c.AsSpan().Clear(); }
        var times = new[] { new List<double>(), new List<double>() };
        var ratios = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            var elapsed = new double[2];
            for (int i = 0; i < 2; i++)
            {
                int v = (r & 1) == 0 ? i : 1 - i;
                c.AsSpan().Clear();
                watch.Restart();
                for (int s = 0; s < 5; s++) calls[v](a, m, k, b, n, c);
                elapsed[v] = watch.Elapsed.TotalMicroseconds / 5;
            }
            times[0].Add(elapsed[0]);
            times[1].Add(elapsed[1]);
            ratios.Add(elapsed[0] / elapsed[1]);
        }
        double flops = 2.0 * m * n * k;
        static double Median(List<double> values) { var sorted = values.Order().ToList(); return sorted[sorted.Count / 2]; }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gemm {m}x{n}x{k}: A {Median(times[0]):0.0} µs ({flops / Median(times[0]) / 1e3:0.0} GFLOP/s), B {Median(times[1]):0.0} µs ({flops / Median(times[1]) / 1e3:0.0} GFLOP/s), A/B {Median(ratios):0.000} (median of {rounds} rounds)"));
        return 0;
    }

    private static float[] Fill(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() - 0.5);
        return values;
    }
}

internal delegate void GemmCall(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c);

internal delegate void StepCall(ReadOnlySpan<float> input, Span<float> output);

internal delegate void RunCall(ReadOnlySpan<float> input, int batch, Span<float> output, ReadOnlySpan<float> initialHidden,
    ReadOnlySpan<float> initialCell, Span<float> finalHidden, Span<float> finalCell, Span<float> layerOutput);

internal delegate void TrainForwardCall(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell);

internal delegate void TrainBackwardCall(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> layerOutputGradient, ReadOnlySpan<float> finalHiddenGradient, ReadOnlySpan<float> finalCellGradient);
