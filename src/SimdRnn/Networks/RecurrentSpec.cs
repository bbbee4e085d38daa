namespace SimdRnn.Networks;

/// <summary>The recurrent cell of every layer.</summary>
public enum CellKind
{
    /// <summary>Elman RNN: <c>h' = act(W_ih·x + b_ih + W_hh·h + b_hh)</c>, act = tanh or relu (PyTorch nn.RNN).</summary>
    Rnn,

    /// <summary>GRU with gates r, z, n in PyTorch's row order (PyTorch nn.GRU; ONNX linear_before_reset = 1 by default).</summary>
    Gru,

    /// <summary>LSTM with gates i, f, g, o in PyTorch's row order (PyTorch nn.LSTM).</summary>
    Lstm,
}

/// <summary>The activation of an Elman (<see cref="CellKind.Rnn"/>) cell.</summary>
public enum Nonlinearity
{
    /// <summary>tanh (PyTorch's default).</summary>
    Tanh,

    /// <summary>max(0, x).</summary>
    Relu,
}

/// <summary>Which biases each layer has.</summary>
public enum BiasMode
{
    /// <summary>PyTorch's pair: <c>bias_ih</c> and <c>bias_hh</c>.</summary>
    Pair,

    /// <summary>One bias, <c>bias_ih</c> only (the seed document's form; <c>bias_hh</c> is zero).</summary>
    Single,

    /// <summary>No biases (PyTorch's <c>bias=False</c>).</summary>
    None,
}

/// <summary>The activation of the optional dense readout.</summary>
public enum ReadoutActivation
{
    /// <summary>Linear: <c>out = W·y + b</c>.</summary>
    None,

    /// <summary><c>out = σ(W·y + b)</c>.</summary>
    Sigmoid,
}

/// <summary>
/// The architecture of a <see cref="RecurrentNetwork"/>: a stack of <see cref="Layers"/> recurrent layers of one
/// <see cref="Cell"/> kind, each unidirectional or bidirectional, and an optional dense readout over the top layer's
/// output at every time step. Shapes follow PyTorch: inputs [T, B, I], outputs [T, B, D·H], states [L·D, B, H]
/// (batch-first [B, T, ·] when <see cref="BatchFirst"/>).
/// </summary>
/// <param name="Cell">The cell kind.</param>
/// <param name="InputSize">I, the length of one input vector (≥ 1).</param>
/// <param name="HiddenSize">H, the hidden units per layer and direction (≥ 1).</param>
public sealed record RecurrentSpec(CellKind Cell, int InputSize, int HiddenSize)
{
    /// <summary>L, the number of stacked layers (≥ 1).</summary>
    public int Layers { get; init; } = 1;

    /// <summary>Whether every layer also runs backwards in time (sequence mode only); D = 2 then, else 1.</summary>
    public bool Bidirectional { get; init; }

    /// <summary>The Elman cell's activation (ignored by GRU and LSTM).</summary>
    public Nonlinearity Nonlinearity { get; init; } = Nonlinearity.Tanh;

    /// <summary>The bias form.</summary>
    public BiasMode Bias { get; init; } = BiasMode.Pair;

    /// <summary>
    /// GRU only: true (PyTorch; ONNX linear_before_reset = 1) computes <c>n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn))</c>;
    /// false (the ONNX default) computes <c>n = tanh(W_in·x + b_in + W_hn·(r ⊙ h) + b_hn)</c>.
    /// </summary>
    public bool LinearBeforeReset { get; init; } = true;

    /// <summary>O, the outputs of the dense readout over the top layer; 0 for no readout.</summary>
    public int ReadoutSize { get; init; }

    /// <summary>The readout's activation.</summary>
    public ReadoutActivation ReadoutActivation { get; init; }

    /// <summary>Whether sequences are laid out [B, T, ·] instead of PyTorch's default [T, B, ·].</summary>
    public bool BatchFirst { get; init; }

    /// <summary>G, the gate blocks of W_ih and W_hh: 1 (RNN), 3 (GRU), 4 (LSTM).</summary>
    public int Gates => Cell switch { CellKind.Gru => 3, CellKind.Lstm => 4, _ => 1 };

    /// <summary>D: 2 when bidirectional, else 1.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>D·H, the width of the top layer's output at one time step.</summary>
    public int LayerOutputSize => Directions * HiddenSize;

    /// <summary>The width of the network's output at one time step: O with a readout, else D·H.</summary>
    public int OutputSize => ReadoutSize > 0 ? ReadoutSize : LayerOutputSize;

    /// <summary>Whether the cell has a memory cell c next to h (LSTM).</summary>
    public bool HasCellState => Cell == CellKind.Lstm;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid property.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Cell)) throw new ArgumentOutOfRangeException(nameof(Cell), Cell, "Unknown cell kind.");
        if (InputSize < 1) throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, "Must be positive.");
        if (HiddenSize < 1) throw new ArgumentOutOfRangeException(nameof(HiddenSize), HiddenSize, "Must be positive.");
        if (Layers < 1) throw new ArgumentOutOfRangeException(nameof(Layers), Layers, "Must be positive.");
        if (!Enum.IsDefined(Nonlinearity)) throw new ArgumentOutOfRangeException(nameof(Nonlinearity), Nonlinearity, "Unknown nonlinearity.");
        if (!Enum.IsDefined(Bias)) throw new ArgumentOutOfRangeException(nameof(Bias), Bias, "Unknown bias mode.");
        if (ReadoutSize < 0) throw new ArgumentOutOfRangeException(nameof(ReadoutSize), ReadoutSize, "Must be zero (no readout) or positive.");
        if (!Enum.IsDefined(ReadoutActivation)) throw new ArgumentOutOfRangeException(nameof(ReadoutActivation), ReadoutActivation, "Unknown readout activation.");
    }
}

/// <summary>Maps the public network-level choices onto the cells' own types (Cells knows nothing of Networks).</summary>
internal static class CellMapping
{
    /// <summary>The Elman cell's activation for <paramref name="nonlinearity"/>.</summary>
    public static Cells.RnnActivation ToCell(this Nonlinearity nonlinearity) =>
        nonlinearity == Nonlinearity.Relu ? Cells.RnnActivation.Relu : Cells.RnnActivation.Tanh;
}
