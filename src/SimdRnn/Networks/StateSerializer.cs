using System.Buffers.Binary;
// The shared error type of malformed bytes (src/SimdRnn/ModelFormatException.cs); its namespace is historical, no Interop code is used.
using ModelFormatException = SimdRnn.Interop.ModelFormatException;

namespace SimdRnn.Networks;

/// <summary>
/// The byte format of a streaming state: "SRNS" magic, format version 1, cell, layers, directions, input size, hidden
/// size, batch, the number of floats (h then c), the floats little-endian, then a CRC-32 (IEEE) of all preceding bytes.
/// </summary>
internal static class StateSerializer
{
    private const uint Magic = 0x534E5253; // "SRNS" little-endian
    private const int Version = 1;
    private const int HeaderLength = 4 * 9;

    public static int Length(RecurrentState state) => HeaderLength + 4 * state.SnapshotLength + 4;

    public static int Write(RecurrentState state, ReadOnlySpan<float> hidden, ReadOnlySpan<float> cell, Span<byte> destination)
    {
        int length = Length(state);
        if (destination.Length < length)
            throw new ArgumentException($"Expected at least {length} bytes, got {destination.Length}.", nameof(destination));
        Span<int> header = stackalloc int[9];
        Header(state, header);
        for (int k = 0; k < header.Length; k++) BinaryPrimitives.WriteInt32LittleEndian(destination.Slice(4 * k), header[k]);
        int offset = HeaderLength;
        foreach (float v in hidden) { BinaryPrimitives.WriteSingleLittleEndian(destination.Slice(offset), v); offset += 4; }
        foreach (float v in cell) { BinaryPrimitives.WriteSingleLittleEndian(destination.Slice(offset), v); offset += 4; }
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(offset), Crc32(destination.Slice(0, offset)));
        return length;
    }

    public static void Read(RecurrentState state, ReadOnlySpan<byte> source, Span<float> hidden, Span<float> cell)
    {
        int length = Length(state);
        if (source.Length < HeaderLength)
            throw new ModelFormatException($"State snapshot truncated: {source.Length} bytes, shorter than its {HeaderLength}-byte header.");
        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic)
            throw new ModelFormatException("Not a SimdRnn state snapshot (bad magic).");
        int version = BinaryPrimitives.ReadInt32LittleEndian(source.Slice(4));
        if (version != Version)
            throw new ModelFormatException($"State snapshot format version {version} is not supported (expected {Version}).");
        Span<int> expected = stackalloc int[9];
        Header(state, expected);
        string[] names = ["magic", "version", "cell", "layers", "directions", "input size", "hidden size", "batch", "float count"];
        for (int k = 2; k < expected.Length; k++)
        {
            int actual = BinaryPrimitives.ReadInt32LittleEndian(source.Slice(4 * k));
            if (actual != expected[k])
                throw new ModelFormatException($"State snapshot is for another network: {names[k]} {actual}, this state has {expected[k]}.");
        }
        if (source.Length < length)
            throw new ModelFormatException($"State snapshot truncated: {source.Length} bytes, expected {length}.");
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(length - 4));
        if (stored != Crc32(source.Slice(0, length - 4)) || source.Length != length)
            throw new ModelFormatException(source.Length != length
                ? $"State snapshot has {source.Length} bytes, expected {length}."
                : "State snapshot corrupted: its checksum does not match.");
        int offset = HeaderLength;
        for (int k = 0; k < hidden.Length; k++, offset += 4) hidden[k] = BinaryPrimitives.ReadSingleLittleEndian(source.Slice(offset));
        for (int k = 0; k < cell.Length; k++, offset += 4) cell[k] = BinaryPrimitives.ReadSingleLittleEndian(source.Slice(offset));
    }

    private static void Header(RecurrentState state, Span<int> header)
    {
        var spec = state.Network.Spec;
        header[0] = unchecked((int)Magic);
        header[1] = Version;
        header[2] = (int)spec.Cell;
        header[3] = spec.Layers;
        header[4] = spec.Directions;
        header[5] = spec.InputSize;
        header[6] = spec.HiddenSize;
        header[7] = state.Batch;
        header[8] = state.SnapshotLength;
    }

    private static readonly uint[] CrcTable = MakeTable();

    private static uint[] MakeTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    /// <summary>CRC-32 (IEEE 802.3, reflected, as zlib's crc32).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }
}
