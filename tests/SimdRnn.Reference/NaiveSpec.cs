namespace SimdRnn.Reference;

/// <summary>
/// The shape of a recurrent network in PyTorch's terms (nn.RNN / nn.GRU / nn.LSTM plus an optional per-step
/// linear readout), for <see cref="NaiveRecurrent"/>.
/// </summary>
/// <param name="Cell">"rnn" (G = 1), "gru" (G = 3, row blocks r, z, n) or "lstm" (G = 4, row blocks i, f, g, o).</param>
/// <param name="InputSize">I, the width of x.</param>
/// <param name="HiddenSize">H.</param>
/// <param name="Layers">L ≥ 1 stacked layers; layer k &gt; 0 reads the D·H-wide output of layer k − 1.</param>
/// <param name="Bidirectional">D = 2 when true: a reverse direction runs t = T−1..0 on the same layer input.</param>
/// <param name="Nonlinearity">"tanh" or "relu"; only the Elman cell ("rnn") may use "relu".</param>
/// <param name="Bias">
/// "pair" (bias_ih and bias_hh, PyTorch's default), "single" (bias_ih only; b_hh is taken as 0: the seed document's
/// one-bias form) or "none" (no recurrent biases, PyTorch's bias=False).
/// </param>
/// <param name="LinearBeforeReset">
/// GRU only. true (PyTorch; ONNX linear_before_reset = 1): n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).
/// false (ONNX default): n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn). Ignored by the other cells.
/// </param>
/// <param name="HeadSize">O; 0 for no readout. Otherwise head.weight [O, D·H] and head.bias [O] read every step of y.</param>
/// <param name="HeadActivation">"none" (out = W y + b) or "sigmoid" (out = σ(W y + b)).</param>
/// <param name="BatchFirst">x, y, out as [B, T, ·] instead of [T, B, ·]; h0, c0, h_n, c_n stay [L·D, B, H] (as in PyTorch).</param>
public sealed record NaiveSpec(
    string Cell,
    int InputSize,
    int HiddenSize,
    int Layers,
    bool Bidirectional,
    string Nonlinearity = "tanh",
    string Bias = "pair",
    bool LinearBeforeReset = true,
    int HeadSize = 0,
    string HeadActivation = "none",
    bool BatchFirst = false)
{
    /// <summary>G: the number of H-row blocks in each weight matrix.</summary>
    public int Gates => Cell switch
    {
        "rnn" => 1,
        "gru" => 3,
        "lstm" => 4,
        _ => throw new InvalidOperationException($"Unknown cell '{Cell}'."),
    };

    /// <summary>D: 1 or 2.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    public bool IsLstm => Cell == "lstm";

    public bool HasHead => HeadSize > 0;

    /// <summary>I_k: I for layer 0, D·H above it.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : Directions * HiddenSize;

    /// <summary>"_l{layer}" plus "_reverse" for direction 1, as in PyTorch's parameter names.</summary>
    public static string Suffix(int layer, int direction) => direction == 0 ? $"_l{layer}" : $"_l{layer}_reverse";

    /// <summary>
    /// Every parameter's name and shape, in PyTorch's state_dict order: for each layer, for each direction,
    /// weight_ih, weight_hh, bias_ih, bias_hh (those present); then head.weight, head.bias.
    /// </summary>
    public IReadOnlyList<(string Name, int[] Shape)> ExpectedParameters()
    {
        Validate();
        int gh = Gates * HiddenSize;
        var list = new List<(string Name, int[] Shape)>();
        for (int layer = 0; layer < Layers; layer++)
        {
            for (int direction = 0; direction < Directions; direction++)
            {
                string s = Suffix(layer, direction);
                list.Add(("weight_ih" + s, [gh, LayerInputSize(layer)]));
                list.Add(("weight_hh" + s, [gh, HiddenSize]));
                if (Bias != "none") list.Add(("bias_ih" + s, [gh]));
                if (Bias == "pair") list.Add(("bias_hh" + s, [gh]));
            }
        }
        if (HasHead)
        {
            list.Add(("head.weight", [HeadSize, Directions * HiddenSize]));
            list.Add(("head.bias", [HeadSize]));
        }
        return list;
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless every field holds an allowed value.</summary>
    public void Validate()
    {
        if (Cell is not ("rnn" or "gru" or "lstm")) throw new ArgumentException($"Cell must be rnn, gru or lstm, not '{Cell}'.");
        if (Nonlinearity is not ("tanh" or "relu")) throw new ArgumentException($"Nonlinearity must be tanh or relu, not '{Nonlinearity}'.");
        if (Nonlinearity == "relu" && Cell != "rnn") throw new ArgumentException("Only the rnn cell takes a relu nonlinearity.");
        if (Bias is not ("pair" or "single" or "none")) throw new ArgumentException($"Bias must be pair, single or none, not '{Bias}'.");
        if (HeadActivation is not ("none" or "sigmoid")) throw new ArgumentException($"HeadActivation must be none or sigmoid, not '{HeadActivation}'.");
        if (InputSize < 1 || HiddenSize < 1 || Layers < 1 || HeadSize < 0) throw new ArgumentException("Sizes must be positive (HeadSize ≥ 0).");
    }
}
