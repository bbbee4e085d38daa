using SimdRnn.Networks;

namespace SimdRnn.Tests.Robustness;

/// <summary>One network shared by N threads, each with its own state: every output equals the single-threaded run's.</summary>
public class ConcurrencyTests
{
    private const int Steps = 100_000;
    private static readonly RecurrentNetwork Network =
        RecurrentNetwork.CreateRandom(new RecurrentSpec(CellKind.Gru, 3, 8) { ReadoutSize = 1, ReadoutActivation = ReadoutActivation.Sigmoid }, seed: 9);

    /// <summary>Runs <see cref="Steps"/> steps of input stream <paramref name="stream"/> and folds every output's bits into a hash.</summary>
    private static ulong Run(int stream)
    {
        var state = Network.CreateState();
        Span<float> x = stackalloc float[3];
        Span<float> y = stackalloc float[1];
        ulong hash = 14695981039346656037UL;
        for (int t = 0; t < Steps; t++)
        {
            x[0] = MathF.Sin(t * 0.01f + stream);
            x[1] = MathF.Cos(t * 0.003f * (stream + 1));
            x[2] = (t + stream) % 7 == 0 ? 1 : 0;
            if (t % 1000 == 999) state.Reset();
            state.Step(x, y);
            hash = (hash ^ (uint)BitConverter.SingleToInt32Bits(y[0])) * 1099511628211UL;
        }
        return hash;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    [InlineData(64)]
    public void Threads_sharing_one_network_get_the_single_threaded_outputs(int threads)
    {
        const int streams = 4; // thread k runs stream k % 4; the references are computed on this thread first
        ulong[] expected = Enumerable.Range(0, streams).Select(Run).ToArray();
        var actual = new ulong[threads];
        var workers = Enumerable.Range(0, threads).Select(k => new Thread(() => actual[k] = Run(k % streams))).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        for (int k = 0; k < threads; k++) Assert.Equal(expected[k % streams], actual[k]);
    }
}
