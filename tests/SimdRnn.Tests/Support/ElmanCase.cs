using FsCheck;
using FsCheck.Fluent;
using SimdRnn.Networks;
using SimdRnn.Reference;

namespace SimdRnn.Tests.Support;

/// <summary>
/// A random Elman problem: sizes, weights, a sequence and its targets. Weights are uniform in ±1/√H (PyTorch's
/// default initialization scale, so tanh is neither saturated nor linear), inputs uniform in [−1, 1], targets in
/// [0, 1]. Everything derives from <see cref="Seed"/>, so a failing case is reproducible from its printout.
/// </summary>
public sealed record ElmanCase(int I, int H, int O, int T, int Seed)
{
    public float[] Parameters { get; } = MakeParameters(I, H, O, Seed);

    public float[] Inputs { get; } = Uniform(T * I, -1, 1, Seed + 1);

    public float[] Targets { get; } = Uniform(T * O, 0, 1, Seed + 2);

    public ElmanNetwork Network() => new(I, H, O, Parameters);

    public NaiveElman Reference() => new(I, H, O, Array.ConvertAll(Parameters, v => (double)v));

    public double[][] InputVectors() => Split(Inputs, I);

    public double[][] TargetVectors() => Split(Targets, O);

    public override string ToString() => $"ElmanCase(I={I}, H={H}, O={O}, T={T}, Seed={Seed})";

    /// <summary>Sizes I, H in 1..67 (vector-width multiples and not), O in 1..5, T in 0..8.</summary>
    public static Arbitrary<ElmanCase> Arbitrary(int maxSize = 67, int maxSteps = 8) =>
        (from i in Gen.Choose(1, maxSize)
         from h in Gen.Choose(1, maxSize)
         from o in Gen.Choose(1, 5)
         from t in Gen.Choose(0, maxSteps)
         from seed in Gen.Choose(0, int.MaxValue / 2)
         select new ElmanCase(i, h, o, t, seed)).ToArbitrary();

    private static float[] MakeParameters(int i, int h, int o, int seed)
    {
        float bound = 1f / MathF.Sqrt(h);
        return Uniform(NaiveElman.Count(i, h, o), -bound, bound, seed);
    }

    private static float[] Uniform(int n, float lo, float hi, int seed)
    {
        var random = new Random(seed);
        var values = new float[n];
        for (int k = 0; k < n; k++) values[k] = lo + (hi - lo) * (float)random.NextDouble();
        return values;
    }

    private static double[][] Split(float[] flat, int width)
    {
        int n = flat.Length / width;
        var rows = new double[n][];
        for (int t = 0; t < n; t++) rows[t] = Array.ConvertAll(flat[(t * width)..((t + 1) * width)], v => (double)v);
        return rows;
    }
}
