using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace SimdRnn.Interop;

/// <summary>
/// A safetensors file read into memory: an 8-byte little-endian header length <c>N</c>, <c>N</c> bytes of UTF-8 JSON
/// naming each tensor's dtype, shape and byte range, then the data buffer (little-endian, row-major). The whole header is
/// validated on load, so every tensor listed can be read; floating-point tensors (<c>F32</c>, <c>F16</c>, <c>BF16</c>,
/// <c>F64</c>) are returned as float32.
/// </summary>
/// <remarks>
/// The file is held in memory (the models this library runs are small). Instances are immutable and thread-safe.
/// Every malformed-file error is a <see cref="ModelFormatException"/>: a file shorter than 8 bytes; a header longer than
/// 100 MB or past the end of the file; a header that is not a JSON object of tensor entries and an optional
/// <c>__metadata__</c> object of strings; an unknown dtype; a shape with a negative or non-integer dimension or an element
/// count that overflows; <c>data_offsets</c> whose length disagrees with the shape and dtype, that leave the data buffer,
/// or that overlap another tensor's.
/// </remarks>
public sealed class SafetensorsFile
{
    private readonly byte[] _data;
    private readonly SafetensorsTensorInfo[] _tensors;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private readonly Dictionary<string, string> _metadata;

    private SafetensorsFile(ReadOnlySpan<byte> header, byte[] data)
    {
        (_tensors, _metadata) = SafetensorsHeader.Parse(header, data.LongLength);
        _data = data;
        _byName = _tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The tensors in the order the header lists them.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors => _tensors;

    /// <summary>The tensor names, in the order the header lists them.</summary>
    public IEnumerable<string> Names => _tensors.Select(t => t.Name);

    /// <summary>The header's <c>__metadata__</c> (string keys and values); empty if the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    /// <summary>The size in bytes of the data buffer that follows the header.</summary>
    public long DataLength => _data.LongLength;

    /// <summary>Reads and validates a safetensors file.</summary>
    /// <param name="path">The file's path.</param>
    /// <returns>The file's contents.</returns>
    /// <exception cref="ModelFormatException">The file is malformed; the message starts with the path.</exception>
    /// <exception cref="IOException">The file cannot be read (for example <see cref="FileNotFoundException"/>).</exception>
    public static SafetensorsFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        try
        {
            return Load(stream);
        }
        catch (ModelFormatException e)
        {
            throw new ModelFormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads and validates a safetensors file from the current position of a stream to its end.</summary>
    /// <param name="stream">The stream; it is read to its end and not closed.</param>
    /// <returns>The file's contents.</returns>
    /// <exception cref="ModelFormatException">The contents are malformed.</exception>
    /// <exception cref="IOException">The stream cannot be read.</exception>
    public static SafetensorsFile Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> prefix = stackalloc byte[8];
        int got = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
        if (got < 8) throw TooShort(got);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        long? remaining = stream.CanSeek ? Math.Max(0, stream.Length - stream.Position) : null;
        CheckHeaderLength(headerLength, remaining);

        // A stream may claim a header it does not have: read it in growing chunks, not one up-front allocation.
        byte[] header = ReadUpTo(stream, (int)headerLength);
        if (header.Length < (int)headerLength) throw HeaderPastEnd(headerLength, 8 + header.Length);

        byte[] data;
        if (remaining is long total)
        {
            long length = total - header.Length;
            if (length > Array.MaxLength) throw new ModelFormatException($"The data buffer ({length} bytes) is too large to load.");
            data = new byte[length];
            got = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            if (got < data.Length) throw new ModelFormatException($"The stream ended {data.Length - got} bytes before its reported length.");
        }
        else
        {
            using var rest = new MemoryStream();
            stream.CopyTo(rest);
            data = rest.ToArray();
        }
        return new SafetensorsFile(header, data);
    }

    /// <summary>Validates a safetensors file held in memory (a <see cref="byte"/> array converts implicitly).</summary>
    /// <param name="bytes">The whole file. The data buffer is copied, so the caller may reuse the memory.</param>
    /// <returns>The file's contents.</returns>
    /// <exception cref="ModelFormatException">The contents are malformed.</exception>
    public static SafetensorsFile Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8) throw TooShort(bytes.Length);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        CheckHeaderLength(headerLength, bytes.Length - 8);
        int start = 8 + (int)headerLength;
        return new SafetensorsFile(bytes[8..start], bytes[start..].ToArray());
    }

    /// <summary>Whether the file holds a tensor of this name.</summary>
    /// <param name="name">The tensor name.</param>
    /// <returns><see langword="true"/> if the header lists it.</returns>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Looks up a tensor's header entry.</summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="info">The entry, if found.</param>
    /// <returns><see langword="true"/> if the header lists it.</returns>
    public bool TryGetInfo(string name, [MaybeNullWhen(false)] out SafetensorsTensorInfo info) => _byName.TryGetValue(name, out info);

    /// <summary>A tensor's header entry.</summary>
    /// <param name="name">The tensor name.</param>
    /// <returns>The entry.</returns>
    /// <exception cref="ModelFormatException">The file holds no tensor of that name.</exception>
    public SafetensorsTensorInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_byName.TryGetValue(name, out SafetensorsTensorInfo? info)) return info;
        throw new ModelFormatException($"The file holds no tensor named '{name}'.");
    }

    /// <summary>A tensor's raw bytes as stored (little-endian, row-major), whatever its dtype.</summary>
    /// <param name="name">The tensor name.</param>
    /// <returns>The bytes, a view of the loaded file.</returns>
    /// <exception cref="ModelFormatException">The file holds no tensor of that name.</exception>
    public ReadOnlyMemory<byte> GetBytes(string name)
    {
        SafetensorsTensorInfo info = GetInfo(name);
        return _data.AsMemory((int)info.DataBegin, (int)(info.DataEnd - info.DataBegin));
    }

    /// <summary>Reads a floating-point tensor as float32, row-major.</summary>
    /// <param name="name">The tensor name.</param>
    /// <returns>A new array of <see cref="SafetensorsTensorInfo.ElementCount"/> values.</returns>
    /// <exception cref="ModelFormatException">The file holds no tensor of that name, or its dtype is not F32, F16, BF16 or F64.</exception>
    public float[] ReadFloat32(string name)
    {
        SafetensorsTensorInfo info = GetInfo(name);
        var values = new float[info.ElementCount];
        Convert(info, values);
        return values;
    }

    /// <summary>Reads a floating-point tensor as float32, row-major, into the caller's memory.</summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="destination">Receives the values; its length must be the tensor's element count.</param>
    /// <exception cref="ModelFormatException">The file holds no tensor of that name, or its dtype is not F32, F16, BF16 or F64.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/>'s length is not the element count.</exception>
    public void ReadFloat32(string name, Span<float> destination)
    {
        SafetensorsTensorInfo info = GetInfo(name);
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"Tensor '{name}' has {info.ElementCount} elements, the destination has length {destination.Length}.", nameof(destination));
        Convert(info, destination);
    }

    private void Convert(SafetensorsTensorInfo info, Span<float> destination)
    {
        ReadOnlySpan<byte> source = _data.AsSpan((int)info.DataBegin, (int)(info.DataEnd - info.DataBegin));
        switch (info.DType)
        {
            case SafetensorsDType.F32:
                if (BitConverter.IsLittleEndian) source.CopyTo(MemoryMarshal.AsBytes(destination));
                else for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
                break;
            case SafetensorsDType.F16:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(2 * i)..]);
                break;
            case SafetensorsDType.BF16:
                // bfloat16 is the high half of a float32: widening is exact.
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]) << 16);
                break;
            case SafetensorsDType.F64:
                // Narrowing rounds to nearest, ties to even (as PyTorch's .float()).
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source[(8 * i)..]);
                break;
            default:
                throw new ModelFormatException(
                    $"Tensor '{info.Name}' is {SafetensorsDTypes.Name(info.DType)}, which does not convert to float32 (expected F32, F16, BF16 or F64).");
        }
    }

    /// <summary>Reads up to <paramref name="count"/> bytes, allocating only as data arrives.</summary>
    private static byte[] ReadUpTo(Stream stream, int count)
    {
        var buffer = new byte[Math.Min(count, 1 << 16)];
        int filled = 0;
        while (filled < count)
        {
            if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(count, 2L * buffer.Length));
            int n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0) break;
            filled += n;
        }
        if (filled < buffer.Length) Array.Resize(ref buffer, filled);
        return buffer;
    }

    private static void CheckHeaderLength(ulong headerLength, long? available)
    {
        if (headerLength > SafetensorsHeader.MaxHeaderLength)
            throw new ModelFormatException($"The header length {headerLength} exceeds the {SafetensorsHeader.MaxHeaderLength}-byte limit.");
        if (available is long a && (long)headerLength > a) throw HeaderPastEnd(headerLength, 8 + a);
    }

    private static ModelFormatException TooShort(long length) =>
        new($"The file is {length} bytes long: too short for the 8-byte header length.");

    private static ModelFormatException HeaderPastEnd(ulong headerLength, long fileLength) =>
        new($"The header length {headerLength} runs past the end of the file ({fileLength} bytes).");
}
