namespace SimdRnn.Networks;

/// <summary>
/// How a <see cref="RecurrentNetwork"/> stores the recurrent weight matrices it runs on (every <c>weight_ih_l*</c> and
/// <c>weight_hh_l*</c>, incl. <c>_reverse</c>); see <see cref="RecurrentNetwork.WithWeightFormat"/>. Biases and the
/// readout stay float32 in every format, activations and arithmetic too except in
/// <see cref="Int8WithInt16Activations"/>'s integer products, and the fp32 master parameters
/// (<see cref="RecurrentNetwork.Parameters"/>) are kept unchanged.
/// </summary>
public enum WeightPrecision
{
    /// <summary>The fp32 master weights themselves (the default; PyTorch-exact).</summary>
    Float32,

    /// <summary>
    /// bf16: every element of every <c>weight_ih_l*</c> / <c>weight_hh_l*</c> matrix (incl. <c>_reverse</c>) is rounded
    /// to the nearest bfloat16, ties to even; biases and the readout stay float32; all arithmetic is float32. NaN and ±∞
    /// master weights are propagated (bfloat16 represents them); finite values above the largest bfloat16 round to ±∞.
    /// Half the bytes of fp32.
    /// </summary>
    BFloat16,

    /// <summary>
    /// int8: for each row r of each <c>weight_ih_l*</c> / <c>weight_hh_l*</c> matrix, <c>s_r = max_j |w_rj| / 127</c>
    /// (a row of zeros keeps <c>s_r = 0</c> and <c>q = 0</c>); <c>q_rj = round-half-to-even(w_rj / s_r)</c>, clamped to
    /// [−127, 127]; the effective weight is <c>q_rj · s_r</c>; biases and readout float32; activations float32 (the
    /// weights are dequantized in registers and <c>s_r</c> applied after the row's dot product — the same number up to
    /// float rounding). Non-finite master weights are refused. About a quarter of the bytes of fp32.
    /// </summary>
    Int8,

    /// <summary>
    /// int8 weights, int16 activations: every weight matrix as in <see cref="Int8"/> (the same q and s_r), and every
    /// vector that multiplies one — a layer's input row x (one per time step and stream) for <c>weight_ih_l*</c>, the
    /// previous hidden state h (and r ⊙ h for a GRU without linear-before-reset) for <c>weight_hh_l*</c> — quantized
    /// afresh before each product: <c>s_x = max_j |x_j| / 32767</c> (in float32),
    /// <c>a_j = round-half-to-even(x_j / s_x)</c> (in [−32767, 32767]); row r of the product is
    /// <c>(Σ_j q_rj·a_j) · (s_r·s_x)</c>, the integer sum exact, converted to float32 once. A vector whose s_x is not a
    /// normal float32 (all zeros, tiny, or holding NaN or ±∞) is not quantized: its product is the int8
    /// kernel's with float activations (<see cref="Int8"/>'s one-row product), so non-finite values propagate. Biases, the readout and all other arithmetic are float32. The same bytes as
    /// <see cref="Int8"/>, but integer products need no conversion of the weights to float (docs/benchmarks.md: faster
    /// than fp32 and <see cref="Int8"/> from one stream; slower on batches, where every row is its own product).
    /// Inference only, like the other reduced formats.
    /// </summary>
    Int8WithInt16Activations,
}
