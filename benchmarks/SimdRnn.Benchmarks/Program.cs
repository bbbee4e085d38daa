using BenchmarkDotNet.Running;

// Run a suite with e.g. `dotnet run -c Release --project benchmarks/SimdRnn.Benchmarks -- --filter '*Gemv*'`.
BenchmarkSwitcher.FromAssembly(typeof(SimdRnn.Benchmarks.BenchConfig).Assembly).Run(args);
