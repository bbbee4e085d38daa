using FsCheck;
using FsCheck.Fluent;
using SimdRnn.Networks;
using SimdRnn.Reference;

namespace SimdRnn.Tests.Support;

/// <summary>
/// A random recurrent problem for comparing SimdRnn with the naive double-precision reference: a spec, T, B, and a
/// seed from which weights (PyTorch's U(±1/√H) init), x, h0, c0 and upstream gradients (U(±1)) derive.
/// </summary>
public sealed record RecurrentCase(RecurrentSpec Spec, int T, int B, bool WithInitialState, int Seed)
{
    public RecurrentNetwork Network() => RecurrentNetwork.CreateRandom(Spec, Seed);

    public NaiveRecurrent Reference(RecurrentNetwork network)
    {
        var parameters = new Dictionary<string, double[]>();
        foreach (var slot in network.Tensors)
            parameters[slot.Name] = Array.ConvertAll(network.Parameters.Slice(slot.Offset, slot.Length).ToArray(), v => (double)v);
        return new NaiveRecurrent(ToNaive(Spec), parameters);
    }

    public static NaiveSpec ToNaive(RecurrentSpec s) => new(
        s.Cell.ToString().ToLowerInvariant(), s.InputSize, s.HiddenSize, s.Layers, s.Bidirectional,
        s.Nonlinearity == Nonlinearity.Relu ? "relu" : "tanh", s.Bias.ToString().ToLowerInvariant(), s.LinearBeforeReset,
        s.ReadoutSize, s.ReadoutActivation == ReadoutActivation.Sigmoid ? "sigmoid" : "none", s.BatchFirst);

    public int StateLength => Spec.Layers * Spec.Directions * B * Spec.HiddenSize;

    public float[] X => Uniform(T * B * Spec.InputSize, 1);
    public float[] H0 => WithInitialState ? Uniform(StateLength, 2) : [];
    public float[] C0 => WithInitialState && Spec.HasCellState ? Uniform(StateLength, 3) : [];
    public float[] DOutput => Uniform(T * B * Spec.OutputSize, 4);
    public float[] DLayerOutput => Spec.ReadoutSize > 0 ? Uniform(T * B * Spec.LayerOutputSize, 5) : [];
    public float[] DFinalHidden => Uniform(StateLength, 6);
    public float[] DFinalCell => Spec.HasCellState ? Uniform(StateLength, 7) : [];

    public override string ToString() => $"RecurrentCase({Spec}, T={T}, B={B}, h0={WithInitialState}, Seed={Seed})";

    private float[] Uniform(int n, int stream)
    {
        var random = new Random(unchecked(Seed * 31 + stream));
        var v = new float[n];
        for (int k = 0; k < n; k++) v[k] = (float)(2 * random.NextDouble() - 1);
        return v;
    }

    public static double[]? AsDouble(float[] values) => values.Length == 0 ? null : Array.ConvertAll(values, v => (double)v);

    /// <summary>Every cell, activation, bias form, GRU form, 1–2 layers, both directions, readouts, layouts; I, H in 1..maxSize.</summary>
    public static Gen<RecurrentSpec> Specs(int maxSize, bool unidirectional = false) =>
        from cell in Gen.Elements(CellKind.Rnn, CellKind.Gru, CellKind.Lstm)
        from relu in Gen.Elements(false, true)
        from bias in Gen.Elements(BiasMode.Pair, BiasMode.Single, BiasMode.None)
        from lbr in Gen.Elements(true, false)
        from layers in Gen.Choose(1, 2)
        from bidirectional in unidirectional ? Gen.Constant(false) : Gen.Elements(false, true)
        from readout in Gen.Choose(0, 3)
        from sigmoid in Gen.Elements(false, true)
        from batchFirst in Gen.Elements(false, true)
        from i in Gen.Choose(1, maxSize)
        from h in Gen.Choose(1, maxSize)
        select new RecurrentSpec(cell, i, h)
        {
            Nonlinearity = cell == CellKind.Rnn && relu ? Nonlinearity.Relu : Nonlinearity.Tanh,
            Bias = bias,
            LinearBeforeReset = lbr,
            Layers = layers,
            Bidirectional = bidirectional,
            ReadoutSize = readout,
            ReadoutActivation = sigmoid ? ReadoutActivation.Sigmoid : ReadoutActivation.None,
            BatchFirst = batchFirst,
        };

    public static Arbitrary<RecurrentCase> Arbitrary(int maxSize = 40, int maxSteps = 5, int maxBatch = 4, bool unidirectional = false) =>
        (from spec in Specs(maxSize, unidirectional)
         from t in Gen.Choose(0, maxSteps)
         from b in Gen.Choose(1, maxBatch)
         from withState in Gen.Elements(false, true)
         from seed in Gen.Choose(0, int.MaxValue / 64)
         select new RecurrentCase(spec, t, b, withState, seed)).ToArbitrary();
}
