namespace SimdRnn.Tests.Support;

/// <summary>
/// Tests that measure process-wide quantities (garbage collections, memory) run alone: xunit runs this collection
/// after the parallel ones, with nothing else in flight.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IsolatedCollection
{
    public const string Name = "Isolated (process-wide measurements)";
}
