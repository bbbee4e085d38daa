using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SimdRnn.Interop;
using SimdRnn.Networks;

namespace SimdRnn.Tests.Interop;

/// <summary>A bf16 network saves its weight matrices as BF16 safetensors under PyTorch's names, and loads back the same network.</summary>
public class BFloat16SaveTests
{
    /// <summary>The nearest bfloat16 bits to <paramref name="v"/>, ties to even, found by comparing the two candidates (independent of the library's bit trick).</summary>
    private static ushort NearestBFloat16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        if (float.IsNaN(v)) return (ushort)((bits >> 16) | 0x40);
        ushort down = (ushort)(bits >> 16), up = (ushort)(down + 1);
        double d = v, low = BitConverter.UInt32BitsToSingle((uint)down << 16), high = BitConverter.UInt32BitsToSingle((uint)up << 16);
        if (float.IsInfinity(v)) return down;
        double toLow = Math.Abs(d - low), toHigh = double.IsInfinity(high) ? Math.Abs(d - Math.CopySign(Math.ScaleB(1.0, 128), d)) : Math.Abs(d - high);
        return toLow < toHigh ? down : toHigh < toLow ? up : (down & 1) == 0 ? down : up;
    }

    [Theory]
    [InlineData(CellKind.Gru, false, 0)]
    [InlineData(CellKind.Lstm, true, 2)]
    [InlineData(CellKind.Rnn, true, 1)]
    public void A_bf16_network_saves_bf16_weights_with_pytorchs_names(CellKind cell, bool bidirectional, int readout)
    {
        var spec = new RecurrentSpec(cell, 3, 5) { Layers = 2, Bidirectional = bidirectional, ReadoutSize = readout };
        var parameters = RecurrentNetwork.CreateRandom(spec, seed: 6).Parameters.ToArray();
        // A few edge values in weight_ih_l0: a tie (1 + 2^-8 → 1), a value that rounds up, a subnormal, −0.
        var wih = RecurrentNetwork.TensorsOf(spec).Single(s => s.Name == "weight_ih_l0");
        float[] edges = [1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8), 1e-40f, -0f];
        edges.CopyTo(parameters, wih.Offset);
        var network = RecurrentNetwork.FromParameters(spec, parameters).WithWeightFormat(WeightPrecision.BFloat16);
        string path = Path.Combine(Path.GetTempPath(), $"simdrnn-bf16-{Guid.NewGuid():N}.safetensors");
        try
        {
            PyTorchModel.Save(network, path);

            // The raw file: header JSON (dtypes, shapes), then little-endian bf16 bits of each weight matrix.
            byte[] bytes = File.ReadAllBytes(path);
            long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
            using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
            Assert.Equal("bf16", header.RootElement.GetProperty("__metadata__").GetProperty("weights").GetString());
            foreach (var slot in network.Tensors)
            {
                string name = slot.Name.StartsWith("head.", StringComparison.Ordinal) ? slot.Name : "rnn." + slot.Name;
                var entry = header.RootElement.GetProperty(name);
                bool matrix = slot.Name.StartsWith("weight_", StringComparison.Ordinal);
                Assert.Equal(matrix ? "BF16" : "F32", entry.GetProperty("dtype").GetString());
                Assert.Equal(slot.Shape.Select(d => (long)d), entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
                long start = entry.GetProperty("data_offsets")[0].GetInt64(), end = entry.GetProperty("data_offsets")[1].GetInt64();
                Assert.Equal((matrix ? 2 : 4) * slot.Length, end - start);
                ReadOnlySpan<byte> data = bytes.AsSpan((int)(8 + headerLength + start), (int)(end - start));
                ReadOnlySpan<float> master = network.Tensor(slot.Name);
                for (int k = 0; k < slot.Length; k++)
                {
                    if (matrix) Assert.Equal(NearestBFloat16(master[k]), BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(2 * k)));
                    else Assert.Equal(BitConverter.SingleToUInt32Bits(master[k]), BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(4 * k)));
                }
            }
            Assert.Equal(0x3F80, NearestBFloat16(edges[0])); // the tie went to even
            Assert.Equal(0x3F82, NearestBFloat16(edges[1]));

            // Loading gives a bf16 network with the same effective weights: the same outputs, bit for bit.
            var loaded = PyTorchModel.Load(path);
            Assert.Equal(WeightPrecision.BFloat16, loaded.WeightPrecision);
            float[] x = Enumerable.Range(0, 4 * 2 * 3).Select(k => MathF.Sin(k)).ToArray();
            float[] a = new float[4 * 2 * spec.OutputSize], b = new float[a.Length];
            using (var s = network.CreateSession()) s.Run(x, 2, a);
            using (var s = loaded.CreateSession()) s.Run(x, 2, b);
            Assert.Equal(a, b);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Fp32_and_int8_networks_save_the_fp32_master()
    {
        var spec = new RecurrentSpec(CellKind.Gru, 3, 5) { ReadoutSize = 1 };
        var fp32 = RecurrentNetwork.CreateRandom(spec, seed: 2);
        foreach (var network in new[] { fp32, fp32.WithWeightFormat(WeightPrecision.Int8) })
        {
            string path = Path.Combine(Path.GetTempPath(), $"simdrnn-f32-{Guid.NewGuid():N}.safetensors");
            try
            {
                PyTorchModel.Save(network, path);
                var file = SafetensorsFile.Load(path);
                Assert.All(file.Tensors, t => Assert.Equal(SafetensorsDType.F32, t.DType));
                Assert.False(file.Metadata.ContainsKey("weights"));
                var loaded = PyTorchModel.Load(path);
                Assert.Equal(WeightPrecision.Float32, loaded.WeightPrecision);
                Assert.Equal(fp32.Parameters.ToArray(), loaded.Parameters.ToArray());
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    [Fact]
    public void The_writer_stores_bf16_or_f32_only()
    {
        var writer = new SafetensorsWriter();
        writer.Add("a", [1f, float.NaN, float.PositiveInfinity, float.MaxValue], [4], SafetensorsDType.BF16);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Add("b", [1f], [1], SafetensorsDType.F16));
        var file = SafetensorsFile.Parse(writer.ToArray());
        Assert.Equal(SafetensorsDType.BF16, file.GetInfo("a").DType);
        float[] values = file.ReadFloat32("a");
        Assert.Equal(1f, values[0]);
        Assert.True(float.IsNaN(values[1]));
        Assert.Equal(float.PositiveInfinity, values[2]);
        Assert.Equal(float.PositiveInfinity, values[3]); // above the largest bfloat16
    }
}
