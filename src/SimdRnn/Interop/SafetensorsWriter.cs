using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SimdRnn.Interop;

/// <summary>
/// Builds a safetensors file of float32 (or bfloat16) tensors and optional string metadata. Tensors are written in
/// ordinal order of their names (so the same contents always give the same bytes), the JSON header is padded with
/// spaces to a multiple of 8 bytes, and float32 values round-trip bit for bit through <see cref="SafetensorsFile"/> (NaN
/// payloads, ±0 and ±∞ included); bfloat16 tensors hold each value rounded to the nearest bfloat16, ties to even.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly SortedDictionary<string, (long[] Shape, float[] Data, SafetensorsDType DType)> _tensors = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _metadata = new(StringComparer.Ordinal);

    /// <summary>The number of tensors added.</summary>
    public int Count => _tensors.Count;

    /// <summary>The metadata set so far (written as the header's <c>__metadata__</c> if not empty).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    /// <summary>Adds a float32 tensor; its values are copied.</summary>
    /// <param name="name">A unique, non-empty name other than <c>__metadata__</c>.</param>
    /// <param name="data">The values, row-major; the length must be the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The dimensions (each ≥ 0), outermost first; empty for a scalar.</param>
    /// <returns>This writer.</returns>
    /// <exception cref="ArgumentException">The name is empty, reserved or taken, or the length does not match the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public SafetensorsWriter Add(string name, ReadOnlySpan<float> data, ReadOnlySpan<long> shape) => Add(name, data, shape, SafetensorsDType.F32);

    /// <summary>
    /// Adds a tensor stored as <paramref name="dtype"/>: <see cref="SafetensorsDType.F32"/> (the values exactly) or
    /// <see cref="SafetensorsDType.BF16"/> (each value rounded to the nearest bfloat16, ties to even; NaN stays NaN, ±∞
    /// and ±0 keep their sign, finite values above the largest bfloat16 become ±∞). The values are copied.
    /// </summary>
    /// <param name="name">A unique, non-empty name other than <c>__metadata__</c>.</param>
    /// <param name="data">The values, row-major; the length must be the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The dimensions (each ≥ 0), outermost first; empty for a scalar.</param>
    /// <param name="dtype">F32 or BF16.</param>
    /// <returns>This writer.</returns>
    /// <exception cref="ArgumentException">The name is empty, reserved or taken, or the length does not match the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, or <paramref name="dtype"/> is neither F32 nor BF16.</exception>
    public SafetensorsWriter Add(string name, ReadOnlySpan<float> data, ReadOnlySpan<long> shape, SafetensorsDType dtype)
    {
        if (dtype is not (SafetensorsDType.F32 or SafetensorsDType.BF16))
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "The writer stores F32 or BF16 tensors.");
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == SafetensorsHeader.MetadataKey)
            throw new ArgumentException($"'{SafetensorsHeader.MetadataKey}' is reserved for the metadata.", nameof(name));
        if (_tensors.ContainsKey(name)) throw new ArgumentException($"A tensor named '{name}' was already added.", nameof(name));
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(shape), d, $"Tensor '{name}': dimensions must be zero or positive.");
            count = d == 0 || count == 0 ? 0 : (count > long.MaxValue / d ? long.MaxValue : count * d);
        }
        if (count != data.Length)
            throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", shape.ToArray())}] has {count} elements, the data has {data.Length}.", nameof(data));
        _tensors.Add(name, (shape.ToArray(), data.ToArray(), dtype));
        return this;
    }

    /// <summary>Adds a float32 tensor with 32-bit dimensions; its values are copied.</summary>
    /// <param name="name">A unique, non-empty name other than <c>__metadata__</c>.</param>
    /// <param name="data">The values, row-major; the length must be the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The dimensions (each ≥ 0), outermost first; empty for a scalar.</param>
    /// <returns>This writer.</returns>
    /// <exception cref="ArgumentException">The name is empty, reserved or taken, or the length does not match the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public SafetensorsWriter Add(string name, ReadOnlySpan<float> data, ReadOnlySpan<int> shape) => Add(name, data, shape, SafetensorsDType.F32);

    /// <summary>Adds a tensor stored as <paramref name="dtype"/> (F32 or BF16) with 32-bit dimensions; see <see cref="Add(string, ReadOnlySpan{float}, ReadOnlySpan{long}, SafetensorsDType)"/>.</summary>
    /// <param name="name">A unique, non-empty name other than <c>__metadata__</c>.</param>
    /// <param name="data">The values, row-major; the length must be the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The dimensions (each ≥ 0), outermost first; empty for a scalar.</param>
    /// <param name="dtype">F32 or BF16.</param>
    /// <returns>This writer.</returns>
    /// <exception cref="ArgumentException">The name is empty, reserved or taken, or the length does not match the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, or <paramref name="dtype"/> is neither F32 nor BF16.</exception>
    public SafetensorsWriter Add(string name, ReadOnlySpan<float> data, ReadOnlySpan<int> shape, SafetensorsDType dtype)
    {
        Span<long> wide = shape.Length <= 16 ? stackalloc long[shape.Length] : new long[shape.Length];
        for (int k = 0; k < shape.Length; k++) wide[k] = shape[k];
        return Add(name, data, wide, dtype);
    }

    /// <summary>Sets a metadata entry, replacing any with the same key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <returns>This writer.</returns>
    public SafetensorsWriter SetMetadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        _metadata[key] = value;
        return this;
    }

    /// <summary>Writes the file to a stream.</summary>
    /// <param name="stream">The destination; it is not closed.</param>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = BuildHeader();
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        byte[]? buffer = BitConverter.IsLittleEndian ? null : new byte[4096];
        byte[]? halves = null;
        foreach ((long[] _, float[] data, SafetensorsDType dtype) in _tensors.Values)
        {
            if (dtype == SafetensorsDType.BF16)
            {
                // Each value rounded to the nearest bfloat16 (Kernels.WeightQuantization's rule), little-endian.
                halves ??= new byte[4096];
                for (int start = 0; start < data.Length; start += halves.Length / 2)
                {
                    int n = Math.Min(halves.Length / 2, data.Length - start);
                    for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt16LittleEndian(halves.AsSpan(2 * i), Kernels.WeightQuantization.ToBFloat16(data[start + i]));
                    stream.Write(halves, 0, 2 * n);
                }
                continue;
            }
            if (buffer is null)
            {
                stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
                continue;
            }
            for (int start = 0; start < data.Length; start += buffer.Length / 4)
            {
                int n = Math.Min(buffer.Length / 4, data.Length - start);
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * i), data[start + i]);
                stream.Write(buffer, 0, 4 * n);
            }
        }
    }

    /// <summary>The whole file as bytes.</summary>
    /// <returns>A new array.</returns>
    public byte[] ToArray()
    {
        using var stream = new MemoryStream();
        WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>
    /// Saves the file atomically: writes a temporary file in the same folder, flushes it to disk, then renames it over
    /// <paramref name="path"/>. If anything fails, the previous file at <paramref name="path"/> (if any) is left intact and
    /// the temporary file is removed.
    /// </summary>
    /// <param name="path">The destination path.</param>
    /// <exception cref="IOException">The file cannot be written or renamed.</exception>
    public void Save(string path) => Save(path, beforeRename: null);

    /// <summary><see cref="Save(string)"/> with a hook run after the temporary file is written (tests inject failures there).</summary>
    internal void Save(string path, Action<string>? beforeRename)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? throw new ArgumentException("The path names no file.", nameof(path));
        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                WriteTo(stream);
                stream.Flush(flushToDisk: true);
            }
            beforeRename?.Invoke(temp);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original error matters more.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort, as above.
        }
    }

    private byte[] BuildHeader()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (_metadata.Count > 0)
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (KeyValuePair<string, string> entry in _metadata) json.WriteString(entry.Key, entry.Value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (KeyValuePair<string, (long[] Shape, float[] Data, SafetensorsDType DType)> tensor in _tensors)
            {
                json.WriteStartObject(tensor.Key);
                json.WriteString("dtype", SafetensorsDTypes.Name(tensor.Value.DType));
                json.WriteStartArray("shape");
                foreach (long d in tensor.Value.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += (long)SafetensorsDTypes.SizeOf(tensor.Value.DType) * tensor.Value.Data.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }
}
