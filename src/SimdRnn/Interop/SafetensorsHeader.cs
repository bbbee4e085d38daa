using System.Globalization;
using System.Text.Json;

namespace SimdRnn.Interop;

/// <summary>
/// Parses and validates a safetensors JSON header with <see cref="Utf8JsonReader"/> (no reflection: AOT- and trim-safe).
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The largest header accepted, in bytes (the reference implementation's limit).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>The reserved header key of the string-to-string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    private static readonly JsonReaderOptions Options = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 16,
    };

    /// <summary>Parses a header and checks every tensor against a data buffer of <paramref name="bufferLength"/> bytes.</summary>
    public static (SafetensorsTensorInfo[] Tensors, Dictionary<string, string> Metadata) Parse(ReadOnlySpan<byte> json, long bufferLength)
    {
        try
        {
            return ParseCore(json, bufferLength);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            // JsonException: syntax; InvalidOperationException/ArgumentException: a string that is not valid UTF-8.
            throw new ModelFormatException($"The safetensors header is not valid JSON: {e.Message}", e);
        }
    }

    private static (SafetensorsTensorInfo[], Dictionary<string, string>) ParseCore(ReadOnlySpan<byte> json, long bufferLength)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: true, new JsonReaderState(Options));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new ModelFormatException("The safetensors header is not a JSON object.");

        var tensors = new List<SafetensorsTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        Dictionary<string, string>? metadata = null;
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            string name = reader.GetString()!;
            Next(ref reader);
            if (name == MetadataKey)
            {
                if (metadata is not null) throw new ModelFormatException($"The safetensors header has '{MetadataKey}' twice.");
                metadata = ReadMetadata(ref reader);
                continue;
            }
            if (!names.Add(name)) throw new ModelFormatException($"Tensor '{name}' appears twice in the safetensors header.");
            tensors.Add(ReadTensor(ref reader, name, bufferLength));
        }
        if (reader.Read()) throw new ModelFormatException("The safetensors header has content after its JSON object.");

        CheckOverlaps(tensors);
        return (tensors.ToArray(), metadata ?? new Dictionary<string, string>(StringComparer.Ordinal));
    }

    private static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read()) throw new ModelFormatException("The safetensors header JSON ends early.");
    }

    private static Dictionary<string, string> ReadMetadata(ref Utf8JsonReader reader)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (reader.TokenType == JsonTokenType.Null) return metadata;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new ModelFormatException($"'{MetadataKey}' must be an object of strings, got {Describe(reader.TokenType)}.");
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject) return metadata;
            string key = reader.GetString()!;
            Next(ref reader);
            if (reader.TokenType != JsonTokenType.String)
                throw new ModelFormatException($"'{MetadataKey}' entry '{key}' must be a string, got {Describe(reader.TokenType)}.");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw new ModelFormatException($"'{MetadataKey}' has the key '{key}' twice.");
        }
    }

    private static SafetensorsTensorInfo ReadTensor(ref Utf8JsonReader reader, string name, long bufferLength)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new ModelFormatException($"Tensor '{name}': expected an object with dtype, shape and data_offsets, got {Describe(reader.TokenType)}.");
        string? dtypeName = null;
        long[]? shape = null;
        long[]? offsets = null;
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            string key = reader.GetString()!;
            Next(ref reader);
            switch (key)
            {
                case "dtype":
                    if (dtypeName is not null) throw Duplicate(name, key);
                    if (reader.TokenType != JsonTokenType.String)
                        throw new ModelFormatException($"Tensor '{name}': dtype must be a string, got {Describe(reader.TokenType)}.");
                    dtypeName = reader.GetString()!;
                    break;
                case "shape":
                    if (shape is not null) throw Duplicate(name, key);
                    shape = ReadIntegers(ref reader, name, key);
                    break;
                case "data_offsets":
                    if (offsets is not null) throw Duplicate(name, key);
                    offsets = ReadIntegers(ref reader, name, key);
                    if (offsets.Length != 2)
                        throw new ModelFormatException($"Tensor '{name}': data_offsets must hold two integers [begin, end], got {offsets.Length}.");
                    break;
                default:
                    throw new ModelFormatException($"Tensor '{name}': unexpected key '{key}' (expected dtype, shape and data_offsets).");
            }
        }
        if (dtypeName is null) throw Missing(name, "dtype");
        if (shape is null) throw Missing(name, "shape");
        if (offsets is null) throw Missing(name, "data_offsets");
        if (!SafetensorsDTypes.TryParse(dtypeName, out SafetensorsDType dtype))
            throw new ModelFormatException($"Tensor '{name}': unknown dtype '{dtypeName}'.");

        long count = ElementCount(shape, name);
        long bytes;
        try
        {
            bytes = checked(count * SafetensorsDTypes.SizeOf(dtype));
        }
        catch (OverflowException)
        {
            throw new ModelFormatException($"Tensor '{name}': shape {Format(shape)} of {dtypeName} is too large: its byte size overflows.");
        }
        long begin = offsets[0], end = offsets[1];
        if (end < begin)
            throw new ModelFormatException($"Tensor '{name}': data_offsets {Format(offsets)} end before they begin.");
        if (end > bufferLength)
            throw new ModelFormatException($"Tensor '{name}': data_offsets {Format(offsets)} run past the end of the data buffer ({bufferLength} bytes).");
        if (end - begin != bytes)
            throw new ModelFormatException($"Tensor '{name}': data_offsets {Format(offsets)} span {end - begin} bytes, but shape {Format(shape)} of {dtypeName} needs {bytes}.");
        return new SafetensorsTensorInfo(name, dtype, shape, count, begin, end);
    }

    private static long[] ReadIntegers(ref Utf8JsonReader reader, string name, string key)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new ModelFormatException($"Tensor '{name}': {key} must be an array of integers, got {Describe(reader.TokenType)}.");
        var values = new List<long>();
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray) return values.ToArray();
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long value) || value < 0)
            {
                string text = reader.TokenType == JsonTokenType.Number
                    ? System.Text.Encoding.UTF8.GetString(reader.ValueSpan)
                    : Describe(reader.TokenType);
                throw new ModelFormatException($"Tensor '{name}': {key}[{values.Count}] must be a non-negative 64-bit integer, got {text}.");
            }
            values.Add(value);
        }
    }

    private static long ElementCount(long[] shape, string name)
    {
        if (Array.IndexOf(shape, 0L) >= 0) return 0;
        long count = 1;
        try
        {
            foreach (long d in shape) count = checked(count * d);
        }
        catch (OverflowException)
        {
            throw new ModelFormatException($"Tensor '{name}': the element count of shape {Format(shape)} overflows a 64-bit integer.");
        }
        return count;
    }

    private static void CheckOverlaps(List<SafetensorsTensorInfo> tensors)
    {
        // Empty tensors occupy no bytes and cannot overlap anything.
        var placed = tensors.Where(t => t.DataEnd > t.DataBegin).OrderBy(t => t.DataBegin).ThenBy(t => t.DataEnd).ToArray();
        for (int k = 1; k < placed.Length; k++)
        {
            SafetensorsTensorInfo a = placed[k - 1], b = placed[k];
            if (b.DataBegin < a.DataEnd)
                throw new ModelFormatException(
                    $"Tensors '{a.Name}' [{a.DataBegin}, {a.DataEnd}) and '{b.Name}' [{b.DataBegin}, {b.DataEnd}) overlap in the data buffer.");
        }
    }

    private static ModelFormatException Duplicate(string name, string key) => new($"Tensor '{name}': '{key}' appears twice.");

    private static ModelFormatException Missing(string name, string key) => new($"Tensor '{name}': '{key}' is missing.");

    private static string Format(long[] values) => "[" + string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
