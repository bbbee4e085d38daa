using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Networks;

namespace SimdRnn.Tests.Robustness;

/// <summary>
/// Results do not depend on buffer alignment: the same data placed 0..7 floats into larger arrays (so vectors start
/// at every offset modulo 32 bytes) gives bit-identical results, for the kernels and for whole networks.
/// </summary>
public class AlignmentTests
{
    private static float[] Placed(float[] data, int offset, out Memory<float> view)
    {
        var buffer = new float[data.Length + 8];
        data.CopyTo(buffer, offset);
        view = buffer.AsMemory(offset, data.Length);
        return buffer;
    }

    private static float[] Values(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    [Property(MaxTest = 100)]
    public Property Kernels_give_the_same_bits_at_every_offset() =>
        Prop.ForAll((from m in Gen.Choose(1, 67) from n in Gen.Choose(1, 67) from i in Gen.Choose(0, 7) from o in Gen.Choose(0, 7) select (m, n, i, o)).ToArbitrary(), c =>
        {
            var (m, n, inOffset, outOffset) = c;
            float[] w = Values(m * n, 1), x = Values(n, 2), b = Values(m, 3);
            float[] reference = new float[m];
            Gemv.MultiplyAdd(w, m, n, x, b, reference);
            Placed(w, inOffset, out var wv);
            Placed(x, (inOffset + 3) % 8, out var xv);
            Placed(new float[m], outOffset, out var yv);
            Gemv.MultiplyAdd(wv.Span, m, n, xv.Span, b, yv.Span);
            Assert.Equal(reference, yv.ToArray());

            float[] gemmReference = new float[3 * m];
            float[] a = Values(3 * n, 4);
            Gemm.MultiplyTransposed(a, 3, n, w, m, gemmReference, accumulate: false);
            Placed(a, outOffset, out var av);
            Placed(new float[3 * m], inOffset, out var cv);
            Gemm.MultiplyTransposed(av.Span, 3, n, wv.Span, m, cv.Span, accumulate: false);
            Assert.Equal(gemmReference, cv.ToArray());

            float[] t = new float[n];
            Activations.Tanh(x, t);
            Placed(new float[n], outOffset, out var tv);
            Activations.Tanh(xv.Span, tv.Span);
            Assert.Equal(t, tv.ToArray());
        });

    [Property(MaxTest = 40)]
    public Property Networks_give_the_same_bits_at_every_offset() =>
        Prop.ForAll(Gen.Elements(CellKind.Rnn, CellKind.Gru, CellKind.Lstm).ToArbitrary(), Gen.Choose(0, 7).ToArbitrary(), Gen.Choose(0, 7).ToArbitrary(), (cell, inOffset, outOffset) =>
        {
            var network = RecurrentNetwork.CreateRandom(new RecurrentSpec(cell, 13, 21) { Layers = 2, Bidirectional = true, ReadoutSize = 3 }, seed: 4);
            float[] x = Values(5 * 2 * 13, 6);
            float[] reference = new float[5 * 2 * 3];
            using var session = network.CreateSession();
            session.Run(x, 2, reference);
            Placed(x, inOffset, out var xv);
            Placed(new float[reference.Length], outOffset, out var yv);
            session.Run(xv.Span, 2, yv.Span);
            Assert.Equal(reference, yv.ToArray());
        });
}
