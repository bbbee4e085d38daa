using BenchmarkDotNet.Running;
using SimdRnn.Benchmarks;

// Run a suite with e.g. `dotnet run -c Release --project benchmarks/SimdRnn.Benchmarks -- --filter '*Gemv*'`;
// `-- profile step gru simdrnn` loops one ONNX Runtime comparison workload for a profiler (scripts/profile.sh).
if (args.Length > 0 && args[0] == "profile") return ProfileWorkload.Run(args);
// `-- versus step gru 64x128 15` runs ONNX Runtime and SimdRnn in alternating slices in one process (EngineVersus).
if (args.Length > 0 && args[0] == "versus") return EngineVersus.Run(args);
// `-- rowsplit-idle` prints the process CPU time after a run (SimdRnn's row split, ONNX Runtime with 2 threads);
// `-- rowsplit-probe` times a step at a few sizes on 1 and 2 workers (how RowSplitPlan.Threshold was chosen).
if (args.Length > 0 && args[0] == "rowsplit-idle") return RowSplitIdleCpu.Run();
if (args.Length > 0 && args[0] == "rowsplit-probe") return RowSplitProbe.Run();
BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args);
return 0;
