using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Interop;
using SimdRnn.Networks;

namespace SimdRnn.Tests.Robustness;

/// <summary>A streaming state survives a restart: it serializes to bytes and restores exactly; damaged bytes are refused.</summary>
public class StateSerializationTests
{
    private static (RecurrentNetwork Network, RecurrentState State, byte[] Bytes) Stepped(CellKind cell, int batch, int steps)
    {
        var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(cell, 3, 11) { Layers = 2, ReadoutSize = 1 }, seed: 5);
        var state = network.CreateState(batch);
        var y = new float[batch];
        for (int t = 0; t < steps; t++) state.Step(Enumerable.Range(0, 3 * batch).Select(i => MathF.Sin(t + i)).ToArray(), y);
        var bytes = new byte[state.SerializedLength];
        Assert.Equal(bytes.Length, state.Serialize(bytes));
        return (network, state, bytes);
    }

    [Theory]
    [InlineData(CellKind.Rnn, 1)]
    [InlineData(CellKind.Gru, 3)]
    [InlineData(CellKind.Lstm, 2)]
    public void A_restored_state_continues_exactly_where_the_old_one_stopped(CellKind cell, int batch)
    {
        var (network, state, bytes) = Stepped(cell, batch, 7);
        var restarted = network.CreateState(batch); // as a new process would after loading the same model
        restarted.Deserialize(bytes);
        Assert.Equal(state.Hidden.ToArray(), restarted.Hidden.ToArray());
        Assert.Equal(state.Cell.ToArray(), restarted.Cell.ToArray());
        float[] x = Enumerable.Range(0, 3 * batch).Select(i => i * 0.1f).ToArray();
        float[] a = new float[batch], b = new float[batch];
        state.Step(x, a);
        restarted.Step(x, b);
        Assert.Equal(a, b);
    }

    [Property(MaxTest = 300)]
    public Property Any_damaged_snapshot_is_refused_and_leaves_the_state_unchanged() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var (network, _, bytes) = Stepped(CellKind.Lstm, 2, 3);
            var random = new Random(seed);
            byte[] damaged = random.Next(3) switch
            {
                0 => bytes[..random.Next(bytes.Length)], // truncated
                1 => FlipBit(bytes, random.Next(bytes.Length * 8)), // one bit flipped anywhere
                _ => [.. bytes, (byte)random.Next(256)], // trailing garbage
            };
            var target = network.CreateState(2);
            target.Step(new float[6], new float[2]);
            float[] before = [.. target.Hidden, .. target.Cell];
            var e = Assert.Throws<ModelFormatException>(() => target.Deserialize(damaged));
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            Assert.Equal(before, (float[])[.. target.Hidden, .. target.Cell]);
        });

    [Fact]
    public void A_snapshot_of_another_network_or_batch_is_refused_with_what_differs()
    {
        var (_, _, bytes) = Stepped(CellKind.Gru, 3, 2);
        var other = RecurrentNetwork.CreateRandom(new RecurrentSpec(CellKind.Gru, 3, 12) { Layers = 2, ReadoutSize = 1 }, seed: 5);
        var e = Assert.Throws<ModelFormatException>(() => other.CreateState(3).Deserialize(bytes));
        Assert.Contains("hidden size 11, this state has 12", e.Message);
        var sameNetworkOtherBatch = RecurrentNetwork.CreateRandom(new RecurrentSpec(CellKind.Gru, 3, 11) { Layers = 2, ReadoutSize = 1 }, seed: 5).CreateState(2);
        Assert.Throws<ModelFormatException>(() => sameNetworkOtherBatch.Deserialize(bytes));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => sameNetworkOtherBatch.Serialize(new byte[10])).ParamName);
    }

    private static byte[] FlipBit(byte[] bytes, int bit)
    {
        byte[] copy = (byte[])bytes.Clone();
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }
}
