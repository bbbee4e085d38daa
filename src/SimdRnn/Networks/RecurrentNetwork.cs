using SimdRnn.Kernels;

namespace SimdRnn.Networks;

/// <summary>
/// An immutable stack of recurrent layers (Elman RNN, GRU or LSTM; uni- or bidirectional) with an optional dense
/// readout, with PyTorch's semantics, parameter names and shapes. Weights never change after construction, so one
/// network serves any number of threads, each with its own <see cref="RecurrentState"/> (streaming) or
/// <see cref="RecurrentSession"/> (whole sequences).
/// </summary>
public sealed class RecurrentNetwork
{
    // The fp32 master parameters (what Parameters, Tensor and the exporters read), and the weights the engines run
    // on, built from them once: one packed matrix per weight (64-byte aligned, its transposed copy made only if a
    // multi-row product uses it) and the derived biases; see NetworkWeights.
    private readonly float[] _parameters;

    private RecurrentNetwork(RecurrentLayout layout, ReadOnlySpan<float> parameters)
    {
        Layout = layout;
        _parameters = parameters.ToArray();
        Weights = new NetworkWeights(layout, parameters);
    }

    /// <summary>A network over the same (shared, never written) master parameters running on weights of <paramref name="precision"/>.</summary>
    private RecurrentNetwork(RecurrentLayout layout, float[] sharedParameters, WeightPrecision precision)
    {
        Layout = layout;
        _parameters = sharedParameters;
        WeightPrecision = precision;
        Weights = new NetworkWeights(layout, sharedParameters, precision switch
        {
            WeightPrecision.BFloat16 => WeightFormat.BFloat16,
            WeightPrecision.Int8 or WeightPrecision.Int8WithInt16Activations => WeightFormat.Int8,
            _ => WeightFormat.Float32,
        }, quantizeActivations: precision == WeightPrecision.Int8WithInt16Activations);
    }

    /// <summary>The architecture.</summary>
    public RecurrentSpec Spec => Layout.Spec;

    /// <summary>
    /// Every parameter tensor: PyTorch's name (without a module prefix), shape and place in <see cref="Parameters"/>.
    /// The list is read-only (casting it to a mutable list and writing throws <see cref="NotSupportedException"/>) and
    /// every <see cref="TensorSlot"/> is immutable (its <see cref="TensorSlot.Shape"/> hands out a copy), so nothing a
    /// caller does with it changes another network, a trainer, or this network.
    /// </summary>
    public IReadOnlyList<TensorSlot> Tensors => Layout.Tensors;

    /// <summary>
    /// All parameters in one buffer, in the order of <see cref="Tensors"/>: always the fp32 master values, whatever
    /// <see cref="WeightPrecision"/> the network runs on (a reduced-precision network derives its weights from them).
    /// </summary>
    public ReadOnlySpan<float> Parameters => _parameters;

    /// <summary>The number of parameters.</summary>
    public int ParameterCount => Layout.Count;

    internal RecurrentLayout Layout { get; }

    /// <summary>The weights the engines run on, built once from <see cref="Parameters"/>.</summary>
    internal NetworkWeights Weights { get; }

    /// <summary>The tensor called <paramref name="name"/> (e.g. <c>weight_hh_l0</c>, <c>head.weight</c>).</summary>
    /// <param name="name">A name from <see cref="Tensors"/>.</param>
    /// <returns>The tensor's elements, row-major.</returns>
    /// <exception cref="KeyNotFoundException">The network has no such tensor.</exception>
    public ReadOnlySpan<float> Tensor(string name)
    {
        var slot = Layout.Find(name) ?? throw new KeyNotFoundException($"The network has no tensor '{name}'.");
        return _parameters.AsSpan(slot.Offset, slot.Length);
    }

    /// <summary>Creates a network from its flat parameters (copied), in the order of the layout's tensors.</summary>
    /// <param name="spec">The architecture.</param>
    /// <param name="parameters">All parameters, <see cref="TensorsOf"/> order.</param>
    /// <returns>The network.</returns>
    /// <exception cref="ArgumentException">The parameter count does not match.</exception>
    public static RecurrentNetwork FromParameters(RecurrentSpec spec, ReadOnlySpan<float> parameters)
    {
        var layout = new RecurrentLayout(spec);
        Guard.Length(parameters, layout.Count, nameof(parameters));
        return new RecurrentNetwork(layout, parameters);
    }

    /// <summary>The tensors (names, shapes, offsets) a network of <paramref name="spec"/> has.</summary>
    /// <param name="spec">The architecture.</param>
    /// <returns>The tensors in buffer order.</returns>
    public static IReadOnlyList<TensorSlot> TensorsOf(RecurrentSpec spec) => new RecurrentLayout(spec).Tensors;

    /// <summary>
    /// Creates a network from named tensors (PyTorch's state_dict names without a module prefix). Every tensor the
    /// architecture has must be present with its exact shape, and no other.
    /// </summary>
    /// <param name="spec">The architecture.</param>
    /// <param name="tensors">Name → (shape, row-major elements).</param>
    /// <returns>The network.</returns>
    /// <exception cref="ArgumentException">A tensor is missing, extra or mis-shaped; the message names it with the expected and actual shape.</exception>
    public static RecurrentNetwork FromTensors(RecurrentSpec spec, IReadOnlyDictionary<string, (int[] Shape, float[] Data)> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var layout = new RecurrentLayout(spec);
        var parameters = new float[layout.Count];
        foreach (var slot in layout.Tensors)
        {
            if (!tensors.TryGetValue(slot.Name, out var tensor))
                throw new ArgumentException($"Tensor '{slot.Name}' is missing (expected shape [{string.Join(", ", slot.Dimensions)}]).", nameof(tensors));
            if (!tensor.Shape.AsSpan().SequenceEqual(slot.ShapeSpan) || tensor.Data.Length != slot.Length)
                throw new ArgumentException($"Tensor '{slot.Name}' has shape [{string.Join(", ", tensor.Shape)}], expected [{string.Join(", ", slot.Dimensions)}].", nameof(tensors));
            tensor.Data.CopyTo(parameters, slot.Offset);
        }
        foreach (var name in tensors.Keys)
            if (layout.Find(name) is null)
                throw new ArgumentException($"Tensor '{name}' is not part of a {spec.Cell} network with {spec.Layers} layer(s), " +
                                            $"{(spec.Bidirectional ? "bidirectional" : "unidirectional")}, bias {spec.Bias}, readout {spec.ReadoutSize}.", nameof(tensors));
        return new RecurrentNetwork(layout, parameters);
    }

    /// <summary>
    /// Creates a network initialized as PyTorch does: every recurrent weight and bias uniform in ±1/√H, the readout's
    /// uniform in ±1/√(D·H). Deterministic for a seed.
    /// </summary>
    /// <param name="spec">The architecture.</param>
    /// <param name="seed">The random seed.</param>
    /// <returns>The network.</returns>
    public static RecurrentNetwork CreateRandom(RecurrentSpec spec, int seed)
    {
        var layout = new RecurrentLayout(spec);
        var parameters = new float[layout.Count];
        var random = new Random(seed);
        foreach (var slot in layout.Tensors)
        {
            double bound = slot.Name.StartsWith("head.", StringComparison.Ordinal) ? 1 / Math.Sqrt(spec.LayerOutputSize) : 1 / Math.Sqrt(spec.HiddenSize);
            for (int k = 0; k < slot.Length; k++) parameters[slot.Offset + k] = (float)((random.NextDouble() * 2 - 1) * bound);
        }
        return new RecurrentNetwork(layout, parameters);
    }

    /// <summary>
    /// How the recurrent weight matrices the network runs on are stored: <see cref="Networks.WeightPrecision.Float32"/>
    /// (the default, PyTorch-exact) unless the network came from <see cref="WithWeightFormat"/>.
    /// </summary>
    public WeightPrecision WeightPrecision { get; }

    /// <summary>
    /// A network with the same architecture and the same fp32 master parameters (shared, not copied:
    /// <see cref="Parameters"/> and <see cref="Tensor"/> still return the fp32 master) that runs on reduced-precision
    /// copies of every <c>weight_ih_l*</c> / <c>weight_hh_l*</c> matrix (incl. <c>_reverse</c>), made once here by the
    /// format's recipe:
    /// <list type="bullet">
    /// <item><b>bf16</b>: every element of every <c>weight_ih_l*</c> / <c>weight_hh_l*</c> matrix (incl.
    /// <c>_reverse</c>) is rounded to the nearest bfloat16, ties to even; biases and the readout stay float32; all
    /// arithmetic is float32. NaN and ±∞ master weights are propagated to the outputs they feed.</item>
    /// <item><b>int8</b>: for each row r of each <c>weight_ih_l*</c> / <c>weight_hh_l*</c> matrix,
    /// <c>s_r = max_j |w_rj| / 127</c> (a row of zeros keeps <c>s_r = 0</c> and <c>q = 0</c>);
    /// <c>q_rj = round-half-to-even(w_rj / s_r)</c>, clamped to [−127, 127]; the effective weight is
    /// <c>q_rj · s_r</c>; biases and readout float32; activations float32 (dequantized in registers, <c>s_r</c>
    /// applied after the row's dot product — the same number up to float rounding). Non-finite master weights are
    /// refused.</item>
    /// <item><b>int8 with int16 activations</b> (<see cref="Networks.WeightPrecision.Int8WithInt16Activations"/>): the
    /// int8 weights, and every vector multiplying a weight matrix (inputs, states) quantized to int16 per product
    /// (<c>s_x = max_j |x_j| / 32767</c>, <c>a_j = round-half-to-even(x_j / s_x)</c>), its products summed exactly in
    /// integers; on every path, one stream or a batch (each row has its own s_x).</item>
    /// </list>
    /// One-row products (streaming steps of one stream, every recurrent step of a one-sequence run) read the compressed
    /// weights, which is where the smaller format pays (those products are bound by memory); products over several rows
    /// (the input projection of a whole sequence, batches) use the same effective weights as float32 copies made on
    /// first use. Every path computes with the effective weights, so results differ from the fp32 network's only by
    /// the weight rounding (docs/accuracy.md), and from one path to another only by float32 rounding. The int8 format
    /// with int16 activations is the exception: it makes no float copy, every product on every path runs the integer
    /// kernels, so every path (and every vector width) gives the same bits, and it differs from fp32 by the weight and
    /// the activation rounding.
    /// </summary>
    /// <remarks>
    /// Inference only: a <see cref="Training.RecurrentTrainer"/> built from the returned network trains the fp32 master
    /// (its gradients and updates are fp32, and its <c>ToNetwork</c> gives an fp32 network); apply the format again to
    /// the trained network. <see cref="Interop.PyTorchModel.Save"/> writes a bf16 network's weight matrices as
    /// <c>BF16</c> tensors (the rounded values) and an int8 network's fp32 master; the ONNX exporter writes the fp32
    /// master.
    /// </remarks>
    /// <param name="precision">The format; <see cref="Networks.WeightPrecision.Float32"/> gives the fp32 network.</param>
    /// <returns>The network using <paramref name="precision"/> (this network if it already does).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="precision"/> is not a defined value.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="precision"/> is <see cref="Networks.WeightPrecision.Int8"/> or
    /// <see cref="Networks.WeightPrecision.Int8WithInt16Activations"/> and a weight matrix holds NaN or ±∞; the message
    /// names the tensor, row and column.
    /// </exception>
    public RecurrentNetwork WithWeightFormat(WeightPrecision precision)
    {
        if (precision is not (WeightPrecision.Float32 or WeightPrecision.BFloat16 or WeightPrecision.Int8 or WeightPrecision.Int8WithInt16Activations))
            throw new ArgumentOutOfRangeException(nameof(precision), precision, "Not a weight precision.");
        return precision == WeightPrecision ? this : new RecurrentNetwork(Layout, _parameters, precision);
    }

    internal static RecurrentNetwork Wrap(RecurrentLayout layout, ReadOnlySpan<float> parameters) => new(layout, parameters);

    /// <summary>A streaming state for <paramref name="batch"/> independent streams (unidirectional networks only).</summary>
    /// <param name="batch">B, the number of streams stepped together (≥ 1).</param>
    /// <returns>A state with zero h (and c); use it from one thread at a time.</returns>
    /// <exception cref="InvalidOperationException">The network is bidirectional (it needs whole sequences).</exception>
    public RecurrentState CreateState(int batch = 1) => new(this, batch);

    /// <summary>A workspace for running whole sequences; use it from one thread at a time.</summary>
    /// <returns>The session.</returns>
    public RecurrentSession CreateSession() => new(this);
}
