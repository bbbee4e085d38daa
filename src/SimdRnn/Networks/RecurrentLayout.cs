using System.Collections.ObjectModel;

namespace SimdRnn.Networks;

/// <summary>One named tensor inside a network's flat parameter buffer. Immutable.</summary>
/// <param name="Name">PyTorch's state_dict name without a module prefix, e.g. <c>weight_ih_l0_reverse</c> or <c>head.weight</c>.</param>
/// <param name="Offset">The first element in the flat buffer.</param>
/// <param name="Shape">The shape, row-major; the slot keeps its own copy, so later changes to this array do not reach it.</param>
/// <remarks>
/// Every network of one architecture (and a trainer's snapshots) shares its slots, so a slot must not be changeable
/// through anything it hands out: <see cref="Shape"/> keeps its <c>int[]</c> type for source compatibility but returns
/// a new copy on each read (writing into it changes nothing else), and <see cref="Dimensions"/> is the same shape as a
/// read-only view without a copy. Two slots are equal when name, offset and shape (element by element) are.
/// </remarks>
public sealed record TensorSlot(string Name, int Offset, int[] Shape)
{
    private readonly int[] _shape = CopyOf(Shape);
    private ReadOnlyCollection<int>? _dimensions; // made on first read (a benign race: every copy wraps the same array)

    /// <summary>The shape, row-major: a new array on each read, which the caller owns (see <see cref="Dimensions"/> for a view without a copy).</summary>
    public int[] Shape
    {
        get => (int[])_shape.Clone();
        init
        {
            _shape = CopyOf(value);
            _dimensions = null;
        }
    }

    /// <summary>The shape, row-major, as a read-only view (no copy).</summary>
    public IReadOnlyList<int> Dimensions => _dimensions ??= Array.AsReadOnly(_shape);

    /// <summary>The number of elements.</summary>
    public int Length
    {
        get
        {
            int length = 1;
            foreach (int dimension in _shape) length *= dimension;
            return length;
        }
    }

    internal ReadOnlySpan<int> ShapeSpan => _shape;

    /// <summary>Whether <paramref name="other"/> has the same name, offset and shape (element by element).</summary>
    /// <param name="other">The other slot.</param>
    /// <returns>True when they describe the same tensor.</returns>
    public bool Equals(TensorSlot? other) =>
        other is not null && Name == other.Name && Offset == other.Offset && _shape.AsSpan().SequenceEqual(other._shape);

    /// <summary>A hash of name, offset and shape.</summary>
    /// <returns>The hash.</returns>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name);
        hash.Add(Offset);
        foreach (int dimension in _shape) hash.Add(dimension);
        return hash.ToHashCode();
    }

    private static int[] CopyOf(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return (int[])shape.Clone();
    }
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
        // Read-only: the layout is shared by every network of this architecture and by trainer snapshots.
        Tensors = slots.AsReadOnly();
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
