using System.Diagnostics;
using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

// Runs the SimdRnn.Tests cases a filter selects, in this process, and ends with the line
// "N passed, N failed, N skipped" (CI parses it). Usage:
//   SimdRnn.Tests.Runner [--sequential] [--trait Name=Value]... [--class-contains Text]...
// --sequential runs one test collection at a time (xunit otherwise runs collections in parallel).
// A test case is run when it has any of the given traits or its class's full name contains any of the given texts
// (everything when no filter is given). Exit code: 0 when every selected case passed and at least one ran, else 1.
var traits = new List<(string Name, string Value)>();
var classTexts = new List<string>();
var executionOptions = new Options();
for (int k = 0; k < args.Length; k++)
{
    if (args[k] == "--trait" && k + 1 < args.Length && args[k + 1].Split('=', 2) is [var name, var value]) { traits.Add((name, value)); k++; }
    else if (args[k] == "--sequential") executionOptions.SetValue("xunit.execution.DisableParallelization", true);
    else if (args[k] == "--class-contains" && k + 1 < args.Length) classTexts.Add(args[++k]);
    else { Console.Error.WriteLine($"unknown argument: {args[k]}"); return 2; }
}

var assembly = typeof(SimdRnn.Tests.HardwarePathTests).Assembly;
var assemblyInfo = Reflector.Wrap(assembly);
var diagnostics = new DiagnosticSink();
using var framework = new XunitTestFramework(diagnostics);

// Discovery: every test case of the assembly, then the filter.
var discovered = new List<ITestCase>();
using (var discoverer = framework.GetDiscoverer(assemblyInfo))
using (var discovery = new DiscoverySink(discovered))
{
    discoverer.Find(includeSourceInformation: false, discovery, new Options());
    discovery.Finished.WaitOne();
}
bool Selected(ITestCase test)
{
    if (traits.Count == 0 && classTexts.Count == 0) return true;
    foreach (var (name, value) in traits)
        if (test.Traits.TryGetValue(name, out var values) && values.Contains(value)) return true;
    string className = test.TestMethod.TestClass.Class.Name;
    foreach (var text in classTexts)
        if (className.Contains(text, StringComparison.Ordinal)) return true;
    return false;
}
var selected = discovered.Where(Selected).ToList();
Console.WriteLine($"SimdRnn.Tests.Runner: {selected.Count} of {discovered.Count} test cases selected ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}, Vector<float>.Count = {System.Numerics.Vector<float>.Count})");

// Execution, one line per failure.
var watch = Stopwatch.StartNew();
using var executor = framework.GetExecutor(new AssemblyName(assembly.FullName!));
using var execution = new ExecutionSink();
executor.RunTests(selected, execution, executionOptions);
execution.Finished.WaitOne();
int results = execution.Passed + execution.Failed + execution.Skipped;
Console.WriteLine($"SimdRnn.Tests.Runner: {results} results ({execution.AssemblyRun} run by xunit's count) in {watch.Elapsed.TotalSeconds:F0} s");
// Every selected case reports at least one result (a theory whose rows were not discovered one by one reports one per
// row); fewer results than cases means cases went missing, which counts as one failure.
int missing = results < selected.Count ? 1 : 0;
if (missing > 0) Console.WriteLine($"FAILED: {selected.Count} test cases selected but only {results} results");
Console.WriteLine($"{execution.Passed} passed, {execution.Failed + missing} failed, {execution.Skipped} skipped");
return execution.Failed + missing == 0 && execution.Passed > 0 ? 0 : 1;

/// <summary>The discovery and execution options: xunit's defaults (an empty bag).</summary>
internal sealed class Options : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
{
    private readonly Dictionary<string, object?> _values = [];
    public TValue GetValue<TValue>(string name) => _values.TryGetValue(name, out var v) && v is TValue t ? t : default!;
    public void SetValue<TValue>(string name, TValue value) => _values[name] = value;
}

/// <summary>Ignores the framework's diagnostic messages.</summary>
internal sealed class DiagnosticSink : LongLivedMarshalByRefObject, IMessageSink
{
    public bool OnMessage(IMessageSinkMessage message) => true;
}

/// <summary>Collects the discovered test cases.</summary>
internal sealed class DiscoverySink(List<ITestCase> cases) : LongLivedMarshalByRefObject, IMessageSink, IDisposable
{
    public ManualResetEvent Finished { get; } = new(false);

    public bool OnMessage(IMessageSinkMessage message)
    {
        if (message is ITestCaseDiscoveryMessage found) cases.Add(found.TestCase);
        else if (message is IDiscoveryCompleteMessage) Finished.Set();
        return true;
    }

    public void Dispose() => Finished.Dispose();
}

/// <summary>Counts results and prints each failure.</summary>
internal sealed class ExecutionSink : LongLivedMarshalByRefObject, IMessageSink, IDisposable
{
    public int Passed, Failed, Skipped;

    /// <summary>The number of tests xunit says it ran (a cross-check of the counts).</summary>
    public int AssemblyRun { get; private set; } = -1;
    private readonly bool _verbose = Environment.GetEnvironmentVariable("SIMDRNN_RUNNER_VERBOSE") == "1";
    public ManualResetEvent Finished { get; } = new(false);

    public bool OnMessage(IMessageSinkMessage message)
    {
        if (_verbose && message is not ITestOutput) Console.WriteLine(message.GetType().Name);
        switch (message)
        {
            case ITestPassed: Interlocked.Increment(ref Passed); break;
            case ITestSkipped: Interlocked.Increment(ref Skipped); break;
            case ITestFailed failed:
                Interlocked.Increment(ref Failed);
                Console.WriteLine($"FAILED {failed.Test.DisplayName}: {string.Join(" | ", failed.Messages)}");
                Console.WriteLine(string.Join(Environment.NewLine, failed.StackTraces));
                break;
            case IErrorMessage error:
                // A failure outside any test (fixture, collection or assembly cleanup).
                Interlocked.Increment(ref Failed);
                Console.WriteLine($"ERROR {string.Join(" | ", error.Messages)}");
                break;
            case ITestAssemblyFinished finished:
                AssemblyRun = finished.TestsRun;
                Finished.Set();
                break;
        }
        return true;
    }

    public void Dispose() => Finished.Dispose();
}
