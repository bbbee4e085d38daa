using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Networks;
using SimdRnn.Tests.Support;

namespace SimdRnn.Tests.Networks;

/// <summary>
/// A B = 1 sequence whose W_hh is larger than half of L2 reads it in snake order: ascending on even steps, descending on
/// odd ones (<c>MatrixProducts.MultiplyOneRow</c>), which must not change a bit. Large matrices are slow to test in
/// numbers, so the threshold is forced: every matrix in snake order (0 bytes) against none (<see cref="long.MaxValue"/>),
/// on small random networks — every cell, the GRU's reset form (two products a step, each alternated), stacks, both
/// directions, readouts, lengths, and every weight format.
/// </summary>
public class SnakeOrderTests
{
    private static readonly WeightPrecision[] Formats = Enum.GetValues<WeightPrecision>();

    private static Arbitrary<(RecurrentCase Case, WeightPrecision Format, bool Lengths)> Cases() =>
        (from c in RecurrentCase.Arbitrary(maxSize: 70, maxSteps: 9, maxBatch: 1).Generator
         from format in Gen.Elements(Formats)
         from lengths in Gen.Elements(false, true)
         select (c, format, lengths)).ToArbitrary();

    [Property(MaxTest = 120)]
    public Property Snake_order_gives_the_bits_of_ascending_order() =>
        Prop.ForAll(Cases(), testCase =>
        {
            var (c, format, withLengths) = testCase;
            var network = c.Network().WithWeightFormat(format);
            var spec = c.Spec;
            int[]? lengths = withLengths && c.T > 0 ? [Math.Max(1, c.T - 1)] : null;
            (float[] Y, float[] H, float[] C) Run(long snakeMinBytes)
            {
                var output = new float[c.T * c.B * spec.OutputSize];
                var hN = new float[c.StateLength];
                var cN = spec.HasCellState ? new float[c.StateLength] : [];
                using var session = network.CreateSession();
                session.MaxDegreeOfParallelism = 1;
                session.SnakeMinBytesForTests = snakeMinBytes;
                session.Run(c.X, c.B, lengths ?? default, output, c.H0, c.C0, hN, cN);
                return (output, hN, cN);
            }
            var ascending = Run(long.MaxValue);
            var snake = Run(0);
            string what = $"{c}, {format}, lengths {withLengths}";
            Assert.True(ascending.Y.AsSpan().SequenceEqual(snake.Y), $"{what}: output");
            Assert.True(ascending.H.AsSpan().SequenceEqual(snake.H), $"{what}: h_n");
            Assert.True(ascending.C.AsSpan().SequenceEqual(snake.C), $"{what}: c_n");
        });
}
