namespace SimdRnn.Networks;

/// <summary>One named tensor inside a network's flat parameter buffer.</summary>
/// <param name="Name">PyTorch's state_dict name without a module prefix, e.g. <c>weight_ih_l0_reverse</c> or <c>head.weight</c>.</param>
/// <param name="Offset">The first element in the flat buffer.</param>
/// <param name="Shape">The shape, row-major.</param>
public sealed record TensorSlot(string Name, int Offset, int[] Shape)
{
    /// <summary>The number of elements.</summary>
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>Offsets of one layer and direction's tensors; a bias offset is −1 where the bias form has none.</summary>
internal readonly record struct LayerSlots(int InputWeights, int RecurrentWeights, int InputBias, int RecurrentBias, int InputSize);

/// <summary>
/// Where every tensor of a <see cref="RecurrentSpec"/> lives in one flat parameter buffer (and, identically, in a
/// gradient buffer, so an optimizer updates the whole model in one pass): for each layer l and direction d in
/// order, <c>weight_ih</c> [G·H, I_l], <c>weight_hh</c> [G·H, H], then <c>bias_ih</c> [G·H] and <c>bias_hh</c> [G·H] as the
/// bias form has them; then the readout's <c>head.weight</c> [O, D·H] and <c>head.bias</c> [O].
/// </summary>
internal sealed class RecurrentLayout
{
    private readonly LayerSlots[] _layers;

    public RecurrentLayout(RecurrentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Spec = spec;
        int gh = spec.Gates * spec.HiddenSize, h = spec.HiddenSize;
        var slots = new List<TensorSlot>();
        _layers = new LayerSlots[spec.Layers * spec.Directions];
        long offset = 0;
        int Add(string name, params int[] shape)
        {
            long length = shape.Aggregate(1L, (a, b) => a * b);
            if (offset + length > Array.MaxLength)
                throw new ArgumentOutOfRangeException(nameof(spec), "The network has more parameters than an array holds.");
            slots.Add(new TensorSlot(name, (int)offset, shape));
            offset += length;
            return (int)(offset - length);
        }

        for (int l = 0; l < spec.Layers; l++)
        {
            int inputSize = l == 0 ? spec.InputSize : spec.LayerOutputSize;
            for (int d = 0; d < spec.Directions; d++)
            {
                string suffix = $"_l{l}" + (d == 1 ? "_reverse" : "");
                int wih = Add("weight_ih" + suffix, gh, inputSize);
                int whh = Add("weight_hh" + suffix, gh, h);
                int bih = spec.Bias != BiasMode.None ? Add("bias_ih" + suffix, gh) : -1;
                int bhh = spec.Bias == BiasMode.Pair ? Add("bias_hh" + suffix, gh) : -1;
                _layers[l * spec.Directions + d] = new LayerSlots(wih, whh, bih, bhh, inputSize);
            }
        }
        if (spec.ReadoutSize > 0)
        {
            HeadWeights = Add("head.weight", spec.ReadoutSize, spec.LayerOutputSize);
            HeadBias = Add("head.bias", spec.ReadoutSize);
        }
        else
        {
            HeadWeights = HeadBias = -1;
        }
        Tensors = slots;
        Count = (int)offset;
    }

    public RecurrentSpec Spec { get; }

    /// <summary>Every tensor, in buffer order.</summary>
    public IReadOnlyList<TensorSlot> Tensors { get; }

    /// <summary>The total number of parameters.</summary>
    public int Count { get; }

    public int HeadWeights { get; }

    public int HeadBias { get; }

    public LayerSlots Layer(int layer, int direction) => _layers[layer * Spec.Directions + direction];

    public TensorSlot? Find(string name)
    {
        foreach (var slot in Tensors)
            if (slot.Name == name) return slot;
        return null;
    }
}
