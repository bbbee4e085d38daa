using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Networks;
using SimdRnn.Tests.Support;
using SimdRnn.Training;

namespace SimdRnn.Tests.Networks;

/// <summary>
/// The sequence engine projects the inputs of a chunk of time steps at a time (a batch's whole P would not stay in
/// cache). Each element of P is the same sum whatever the chunks, so every chunking must give the bits of the unchunked
/// pass: outputs, final states and gradients, in both directions, with and without lengths. The properties force
/// chunks of 1..5 rows on small random cases; the theory runs the automatic choice on shapes it splits (it chunks
/// whenever T·B·G·H exceeds 64 Ki floats and T·B exceeds I: a large batch, or a long single sequence).
/// </summary>
/// <remarks>
/// The rows of P at padded positions are cleared chunk by chunk, as the whole P was before; nothing downstream reads
/// them (a padded step keeps the stream's state), so that clearing is defensive and no output can show it.
/// </remarks>
public class ProjectionChunkTests
{
    private static Gen<int[]?> Lengths(int t, int b) =>
        t == 0 ? Gen.Constant<int[]?>(null) : Gen.OneOf(Gen.Constant<int[]?>(null), Gen.ArrayOf(Gen.Choose(1, t), b).Select(l => (int[]?)l));

    /// <summary>A random case (B ≤ 3), lengths or none, and a forced chunk of 1..<paramref name="maxRows"/> rows.</summary>
    private static Arbitrary<(RecurrentCase Case, int[]? Lengths, int Rows)> Cases(int maxSize, int maxSteps, int maxRows) =>
        (from c in RecurrentCase.Arbitrary(maxSize, maxSteps, maxBatch: 3).Generator
         from lengths in Lengths(c.T, c.B)
         from rows in Gen.Choose(1, maxRows)
         select (c, lengths, rows)).ToArbitrary();

    [Property(MaxTest = 120)]
    public Property Chunked_runs_give_the_bits_of_the_whole_projection() =>
        Prop.ForAll(Cases(maxSize: 24, maxSteps: 9, maxRows: 5), testCase =>
            {
                var (c, lengths, rows) = testCase;
                var network = c.Network();
                var spec = c.Spec;
                (float[] Y, float[] H, float[] C, float[] L) Run(int chunkRows)
                {
                    var output = new float[c.T * c.B * spec.OutputSize];
                    var layerOutput = spec.ReadoutSize > 0 ? new float[c.T * c.B * spec.LayerOutputSize] : [];
                    var hN = new float[c.StateLength];
                    var cN = spec.HasCellState ? new float[c.StateLength] : [];
                    using var session = network.CreateSession();
                    session.MaxDegreeOfParallelism = 1;
                    session.ProjectionChunkRowsForTests = chunkRows;
                    session.Run(c.X, c.B, lengths ?? default, output, c.H0, c.C0, hN, cN, layerOutput);
                    return (output, hN, cN, layerOutput);
                }
                var whole = Run(0);
                var chunked = Run(rows);
                string what = $"{c}, chunk rows {rows}, lengths [{string.Join(",", lengths ?? [])}]";
                Assert.True(whole.Y.AsSpan().SequenceEqual(chunked.Y), $"{what}: output");
                Assert.True(whole.H.AsSpan().SequenceEqual(chunked.H), $"{what}: h_n");
                Assert.True(whole.C.AsSpan().SequenceEqual(chunked.C), $"{what}: c_n");
                Assert.True(whole.L.AsSpan().SequenceEqual(chunked.L), $"{what}: layer output");
            });

    [Property(MaxTest = 60)]
    public Property Chunked_training_passes_give_the_bits_of_the_whole_projection() =>
        Prop.ForAll(Cases(maxSize: 16, maxSteps: 7, maxRows: 4), testCase =>
            {
                var (c, lengths, rows) = testCase;
                var network = c.Network();
                float[] Gradients(int chunkRows)
                {
                    using var trainer = new RecurrentTrainer(network);
                    trainer.ProjectionChunkRowsForTests = chunkRows;
                    trainer.Forward(c.X, c.B, lengths ?? default, c.H0, c.C0);
                    trainer.Backward(c.DOutput, c.DLayerOutput, c.DFinalHidden, c.DFinalCell);
                    return [.. network.Tensors.SelectMany(slot => trainer.Gradient(slot.Name).ToArray()), .. trainer.InputGradient];
                }
                Assert.True(Gradients(0).AsSpan().SequenceEqual(Gradients(rows)), $"{c}, chunk rows {rows}: gradients");
            });

    // The automatic chunking on shapes it splits, against one chunk of all T·B rows (an override larger than any run),
    // with and without lengths: a batch of 64 (two steps a chunk), the GRU's reset form bidirectional over two layers
    // (the second layer's input is 2H wide), and single long sequences (chunks of ≥ I rows, a last chunk of one row).
    [Theory]
    [InlineData(CellKind.Gru, true, false, 1, 16, 64, 64, 128)]
    [InlineData(CellKind.Gru, false, true, 2, 12, 33, 20, 96)]
    [InlineData(CellKind.Lstm, true, true, 1, 129, 1, 37, 256)]
    [InlineData(CellKind.Gru, true, false, 2, 257, 1, 24, 256)]
    public void Automatic_chunks_give_the_bits_of_one_chunk(CellKind cell, bool linearBeforeReset, bool bidirectional, int layers, int steps, int batch, int inputs, int hidden)
    {
        var spec = new RecurrentSpec(cell, inputs, hidden) { LinearBeforeReset = linearBeforeReset, Bidirectional = bidirectional, Layers = layers };
        var network = RecurrentNetwork.CreateRandom(spec, seed: 5);
        var random = new Random(3);
        var x = new float[steps * batch * inputs];
        for (int k = 0; k < x.Length; k++) x[k] = (float)(2 * random.NextDouble() - 1);
        var lengths = new int[batch];
        for (int b = 0; b < batch; b++) lengths[b] = 1 + b * 7919 % steps;
        lengths[0] = steps;
        foreach (int[]? withLengths in new[] { null, lengths })
        {
            float[] Run(int chunkRows)
            {
                using var session = network.CreateSession();
                session.MaxDegreeOfParallelism = 1;
                session.ProjectionChunkRowsForTests = chunkRows;
                var y = new float[steps * batch * spec.OutputSize];
                session.Run(x, batch, withLengths ?? default, y);
                return y;
            }
            Assert.True(Run(1 << 30).AsSpan().SequenceEqual(Run(0)), $"{spec}, T = {steps}, B = {batch}, lengths: {withLengths is not null}");
        }
    }
}
