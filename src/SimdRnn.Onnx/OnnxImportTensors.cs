using System.Buffers.Binary;
using SimdRnn.Interop;
using SimdRnn.Onnx.Protos;

namespace SimdRnn.Onnx;

/// <summary>A constant tensor read from an initializer or a Constant node: float32 (weights) or integer (shapes, indices).</summary>
internal sealed class OnnxConstant
{
    public OnnxConstant(long[] dims, float[]? floats, long[]? ints)
    {
        Dims = dims;
        Floats = floats;
        Ints = ints;
    }

    public long[] Dims { get; }

    public float[]? Floats { get; }

    public long[]? Ints { get; }

    public int Rank => Dims.Length;

    public int Count => Floats?.Length ?? Ints!.Length;

    public string ShapeText => "[" + string.Join(", ", Dims) + "]";
}

/// <summary>Reads <see cref="TensorProto"/>s into <see cref="OnnxConstant"/>s.</summary>
internal static class OnnxImportTensors
{
    /// <summary>Reads a float32 or integer tensor; anything else (other types, external or segmented data, a size that does not fit the dims) is refused.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="where">Who reads it, for the message (e.g. "Node 'x' (LSTM): input W").</param>
    public static OnnxConstant Read(TensorProto tensor, string where)
    {
        string name = tensor.Name.Length > 0 ? $"tensor '{tensor.Name}'" : "an unnamed tensor";
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
            throw new ModelFormatException($"{where}: {name} keeps its data in an external file, which the import does not read.");
        if (tensor.Segment is not null) throw new ModelFormatException($"{where}: {name} is a segment of a larger tensor, which the import does not read.");
        long count = 1;
        foreach (long dim in tensor.Dims)
        {
            if (dim < 0) throw new ModelFormatException($"{where}: {name} has a negative dimension {dim}.");
            count = dim == 0 ? 0 : count > int.MaxValue / Math.Max(1, dim) ? long.MaxValue : count * dim;
        }
        if (count > Array.MaxLength) throw new ModelFormatException($"{where}: {name} has [{string.Join(", ", tensor.Dims)}]: too many elements.");
        int n = (int)count;
        long[] dims = [.. tensor.Dims];
        var raw = tensor.RawData.Span;
        switch ((TensorProto.Types.DataType)tensor.DataType)
        {
            case TensorProto.Types.DataType.Float:
                {
                    if (!raw.IsEmpty || n > 0 && tensor.FloatData.Count == 0)
                    {
                        if (raw.Length != 4L * n) throw new ModelFormatException($"{where}: {name} [{string.Join(", ", dims)}] has {raw.Length} raw bytes, expected {4L * n}.");
                        var values = new float[n];
                        for (int k = 0; k < n; k++) values[k] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * k, 4));
                        return new OnnxConstant(dims, values, null);
                    }
                    else
                    {
                        if (tensor.FloatData.Count != n) throw new ModelFormatException($"{where}: {name} [{string.Join(", ", dims)}] has {tensor.FloatData.Count} float_data values, expected {n}.");
                        var values = new float[n];
                        tensor.FloatData.CopyTo(values, 0);
                        return new OnnxConstant(dims, values, null);
                    }
                }
            case TensorProto.Types.DataType.Int64:
                {
                    if (!raw.IsEmpty || n > 0 && tensor.Int64Data.Count == 0)
                    {
                        if (raw.Length != 8L * n) throw new ModelFormatException($"{where}: {name} [{string.Join(", ", dims)}] has {raw.Length} raw bytes, expected {8L * n}.");
                        var values = new long[n];
                        for (int k = 0; k < n; k++) values[k] = BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(8 * k, 8));
                        return new OnnxConstant(dims, null, values);
                    }
                    else
                    {
                        if (tensor.Int64Data.Count != n) throw new ModelFormatException($"{where}: {name} [{string.Join(", ", dims)}] has {tensor.Int64Data.Count} int64_data values, expected {n}.");
                        var values = new long[n];
                        tensor.Int64Data.CopyTo(values, 0);
                        return new OnnxConstant(dims, null, values);
                    }
                }
            case TensorProto.Types.DataType.Int32:
                {
                    if (!raw.IsEmpty || n > 0 && tensor.Int32Data.Count == 0)
                    {
                        if (raw.Length != 4L * n) throw new ModelFormatException($"{where}: {name} [{string.Join(", ", dims)}] has {raw.Length} raw bytes, expected {4L * n}.");
                        var values = new long[n];
                        for (int k = 0; k < n; k++) values[k] = BinaryPrimitives.ReadInt32LittleEndian(raw.Slice(4 * k, 4));
                        return new OnnxConstant(dims, null, values);
                    }
                    else
                    {
                        if (tensor.Int32Data.Count != n) throw new ModelFormatException($"{where}: {name} [{string.Join(", ", dims)}] has {tensor.Int32Data.Count} int32_data values, expected {n}.");
                        var values = new long[n];
                        for (int k = 0; k < n; k++) values[k] = tensor.Int32Data[k];
                        return new OnnxConstant(dims, null, values);
                    }
                }
            default:
                throw new ModelFormatException($"{where}: {name} has element type {DataTypeName(tensor.DataType)}; the import reads float32 weights and int64/int32 shapes and indices only.");
        }
    }

    public static string DataTypeName(int dataType) =>
        Enum.IsDefined((TensorProto.Types.DataType)dataType) ? ((TensorProto.Types.DataType)dataType).ToString() : $"#{dataType}";
}
