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
/// pass: outputs, final states and gradients, in both directions, with and without lengths. The automatic choice
/// chunks only large batches; these tests force chunks of 1..5 rows on small random cases.
/// </summary>
public class ProjectionChunkTests
{
    private static Gen<int[]?> Lengths(int t, int b) =>
        t == 0 ? Gen.Constant<int[]?>(null) : Gen.OneOf(Gen.Constant<int[]?>(null), Gen.ArrayOf(Gen.Choose(1, t), b).Select(l => (int[]?)l));

    [Property(MaxTest = 120)]
    public Property Chunked_runs_give_the_bits_of_the_whole_projection() =>
        Prop.ForAll(
            (from c in RecurrentCase.Arbitrary(maxSize: 24, maxSteps: 9, maxBatch: 3).Generator
             from lengths in Lengths(c.T, c.B)
             from rows in Gen.Choose(1, 5)
             select (c, lengths, rows)).ToArbitrary(),
            testCase =>
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
        Prop.ForAll(
            (from c in RecurrentCase.Arbitrary(maxSize: 16, maxSteps: 7, maxBatch: 3).Generator
             from rows in Gen.Choose(1, 4)
             select (c, rows)).ToArbitrary(),
            testCase =>
            {
                var (c, rows) = testCase;
                var network = c.Network();
                float[] Gradients(int chunkRows)
                {
                    using var trainer = new RecurrentTrainer(network);
                    trainer.ProjectionChunkRowsForTests = chunkRows;
                    trainer.Forward(c.X, c.B, c.H0, c.C0);
                    trainer.Backward(c.DOutput, c.DLayerOutput, c.DFinalHidden, c.DFinalCell);
                    return [.. network.Tensors.SelectMany(slot => trainer.Gradient(slot.Name).ToArray()), .. trainer.InputGradient];
                }
                Assert.True(Gradients(0).AsSpan().SequenceEqual(Gradients(rows)), $"{c}, chunk rows {rows}: gradients");
            });
}
