using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Networks;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Networks;

/// <summary>Batch-parallel sequence runs give the serial run's results, allocate nothing in steady state, and end cleanly.</summary>
public class BatchParallelTests
{
    [Property(MaxTest = 40)]
    public Property Parallel_runs_match_serial_runs() =>
        Prop.ForAll(RecurrentCase.Arbitrary(maxSize: 48, maxSteps: 6, maxBatch: 9), Gen.Choose(2, 4).ToArbitrary(), (c, threads) =>
        {
            var spec = c.Spec;
            var network = c.Network();
            int n = c.T * c.B;
            float[] serial = new float[n * spec.OutputSize], parallel = new float[serial.Length];
            float[] hs = new float[c.StateLength], hp = new float[c.StateLength];
            float[] cs = spec.HasCellState ? new float[c.StateLength] : [], cp = spec.HasCellState ? new float[c.StateLength] : [];
            float[] ls = spec.ReadoutSize > 0 ? new float[n * spec.LayerOutputSize] : [], lp = spec.ReadoutSize > 0 ? new float[n * spec.LayerOutputSize] : [];
            using (var session = network.CreateSession())
            {
                session.MaxDegreeOfParallelism = 1;
                session.Run(c.X, c.B, serial, c.H0, c.C0, hs, cs, ls);
            }
            using (var session = network.CreateSession())
            {
                session.MaxDegreeOfParallelism = threads;
                session.RunParallelForTests(c.X, c.B, parallel, c.H0, c.C0, hp, cp, lp);
            }
            // Each part runs the same kernels on fewer rows; row blocking can change the order of a few sums.
            Assert.Null(Compare.NormRelative(parallel, Array.ConvertAll(serial, v => (double)v), 1e-6, $"{c}: output"));
            Assert.Null(Compare.NormRelative(hp, Array.ConvertAll(hs, v => (double)v), 1e-6, $"{c}: h_n"));
            Assert.Null(Compare.NormRelative(cp, Array.ConvertAll(cs, v => (double)v), 1e-6, $"{c}: c_n"));
            Assert.Null(Compare.NormRelative(lp, Array.ConvertAll(ls, v => (double)v), 1e-6, $"{c}: layer output"));
        });

    [Fact]
    public void A_large_batch_runs_in_parallel_without_allocating()
    {
        var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(CellKind.Gru, 16, 64), seed: 1);
        using var session = network.CreateSession();
        session.MaxDegreeOfParallelism = 2;
        float[] x = new float[16 * 32 * 16], y = new float[16 * 32 * 64];
        // The least of three measurements (Allocations.Of): a wait handle created the first time the caller actually
        // blocks is a one-time allocation, not a per-run one.
        Assert.Equal(0, Allocations.Of(() => session.Run(x, 32, y), 20));
        Assert.Equal("value", Assert.Throws<ArgumentOutOfRangeException>(() => session.MaxDegreeOfParallelism = 0).ParamName);
    }
}
