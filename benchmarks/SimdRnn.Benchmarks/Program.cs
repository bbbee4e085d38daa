using BenchmarkDotNet.Running;
using SimdRnn.Benchmarks;

// Run a suite with e.g. `dotnet run -c Release --project benchmarks/SimdRnn.Benchmarks -- --filter '*Gemv*'`;
// `-- profile step gru simdrnn` loops one ONNX Runtime comparison workload for a profiler (scripts/profile.sh).
if (args.Length > 0 && args[0] == "profile") return ProfileWorkload.Run(args);
BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args);
return 0;
