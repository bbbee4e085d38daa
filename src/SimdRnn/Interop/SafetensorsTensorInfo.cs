namespace SimdRnn.Interop;

/// <summary>One tensor's entry in a safetensors header: its name, element type, shape and place in the data buffer.</summary>
public sealed class SafetensorsTensorInfo
{
    private readonly long[] _shape;

    internal SafetensorsTensorInfo(string name, SafetensorsDType dtype, long[] shape, long elementCount, long dataBegin, long dataEnd)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        ElementCount = elementCount;
        DataBegin = dataBegin;
        DataEnd = dataEnd;
    }

    /// <summary>The tensor's name (for example <c>rnn.weight_ih_l0</c>).</summary>
    public string Name { get; }

    /// <summary>The element type stored in the file.</summary>
    public SafetensorsDType DType { get; }

    /// <summary>The dimensions, outermost first (row-major); empty for a scalar. Every dimension is ≥ 0.</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements: the product of <see cref="Shape"/> (1 for a scalar, 0 if a dimension is 0).</summary>
    public long ElementCount { get; }

    /// <summary>The offset of the first byte in the data buffer (which starts right after the header).</summary>
    public long DataBegin { get; }

    /// <summary>The offset one past the last byte in the data buffer.</summary>
    public long DataEnd { get; }

    /// <summary>The size in bytes of one element of <see cref="DType"/>.</summary>
    public int ElementSize => SafetensorsDTypes.SizeOf(DType);

    /// <summary>The shape as 32-bit dimensions (every dimension must fit, as they do in any tensor small enough to read).</summary>
    /// <returns>A new array with the dimensions, outermost first.</returns>
    /// <exception cref="ModelFormatException">A dimension exceeds <see cref="int.MaxValue"/>.</exception>
    public int[] GetShapeInt32()
    {
        var shape = new int[_shape.Length];
        for (int k = 0; k < shape.Length; k++)
        {
            if (_shape[k] > int.MaxValue)
                throw new ModelFormatException($"Tensor '{Name}': dimension {k} is {_shape[k]}, more than a 32-bit size.");
            shape[k] = (int)_shape[k];
        }
        return shape;
    }

    /// <summary>A short description: name, dtype and shape, for example <c>x F32 [5, 1, 3]</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"{Name} {SafetensorsDTypes.Name(DType)} [{string.Join(", ", _shape)}]";
}
