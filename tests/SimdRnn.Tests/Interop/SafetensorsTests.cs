using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Interop;

namespace SimdRnn.Tests.Interop;

[Trait("Category", "Interop")]
public class SafetensorsTests
{
    // ---------------------------------------------------------------- round trips

    private sealed record Tensor(string Name, long[] Shape, float[] Data);

    private static readonly float[] Specials =
    [
        0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, -float.Epsilon,
        float.MaxValue, float.MinValue, BitConverter.Int32BitsToSingle(0x7FC0_1234), // quiet NaN with a payload
        BitConverter.Int32BitsToSingle(unchecked((int)0xFF80_0001)), // signalling NaN, sign set
        BitConverter.Int32BitsToSingle(0x7F80_0001), 1f, -1f,
    ];

    private static Gen<float> Values() => Gen.OneOf(
        Gen.Choose(int.MinValue, int.MaxValue).Select(BitConverter.Int32BitsToSingle), // any bit pattern
        Gen.Elements(Specials),
        Gen.Choose(-1000, 1000).Select(v => v / 64f));

    private static Gen<string> Names() => Gen.Elements("w", "rnn.weight_ih_l0", "x", "héllo", "名前", "a b\"c\\d", "__meta", "0");

    private static Gen<Tensor> Tensors(int index) =>
        from rank in Gen.Choose(0, 4)
        from dims in Gen.Choose(0, 4).ArrayOf(rank)
        let shape = dims.Select(d => (long)d).ToArray()
        let count = (int)shape.Aggregate(1L, (a, b) => a * b)
        from data in Values().ArrayOf(count)
        from name in Names()
        select new Tensor($"{name}{index}", shape, data);

    private static Arbitrary<(Tensor[] Tensors, (string Key, string Value)[] Metadata)> Files() =>
        (from n in Gen.Choose(0, 5)
         from tensors in Gen.CollectToArray(Enumerable.Range(0, n).Select(Tensors))
         from m in Gen.Choose(0, 3)
         from meta in Gen.CollectToArray(Enumerable.Range(0, m).Select(k =>
             from key in Names()
             from value in Gen.Elements("", "true", "7", "ünïcødé ✓", "line\nbreak", "\"quoted\"")
             select ($"{key}{k}", value)))
         select (tensors.ToArray(), meta.ToArray())).ToArbitrary();

    private static SafetensorsWriter Writer(Tensor[] tensors, (string Key, string Value)[] metadata)
    {
        var writer = new SafetensorsWriter();
        foreach (Tensor t in tensors) writer.Add(t.Name, t.Data, t.Shape);
        foreach ((string key, string value) in metadata) writer.SetMetadata(key, value);
        return writer;
    }

    private static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i])) return false;
        return true;
    }

    private static bool Matches(SafetensorsFile file, Tensor[] tensors, (string Key, string Value)[] metadata)
    {
        if (file.Tensors.Count != tensors.Length || file.Metadata.Count != metadata.Length) return false;
        foreach ((string key, string value) in metadata)
            if (!file.Metadata.TryGetValue(key, out string? got) || got != value) return false;
        foreach (Tensor t in tensors)
        {
            SafetensorsTensorInfo info = file.GetInfo(t.Name);
            if (info.DType != SafetensorsDType.F32 || !info.Shape.SequenceEqual(t.Shape) || info.ElementCount != t.Data.Length) return false;
            if (!SameBits(file.ReadFloat32(t.Name), t.Data)) return false;
            var into = new float[t.Data.Length];
            file.ReadFloat32(t.Name, into);
            if (!SameBits(into, t.Data)) return false;
        }
        return true;
    }

    [Property(MaxTest = 300)]
    public Property Round_trip_is_bit_exact_through_bytes_and_streams() => Prop.ForAll(Files(), c =>
    {
        byte[] bytes = Writer(c.Tensors, c.Metadata).ToArray();
        using var seekable = new MemoryStream(bytes);
        using var forwardOnly = new ForwardOnlyStream(bytes);
        return Matches(SafetensorsFile.Parse(bytes), c.Tensors, c.Metadata)
            && Matches(SafetensorsFile.Load(seekable), c.Tensors, c.Metadata)
            && Matches(SafetensorsFile.Load(forwardOnly), c.Tensors, c.Metadata);
    });

    [Property(MaxTest = 100)]
    public Property Header_is_space_padded_to_8_bytes_and_order_is_stable() => Prop.ForAll(Files(), c =>
    {
        byte[] bytes = Writer(c.Tensors, c.Metadata).ToArray();
        byte[] reversed = Writer(c.Tensors.Reverse().ToArray(), c.Metadata.Reverse().ToArray()).ToArray();
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        return n % 8 == 0 && header.TrimEnd(' ').EndsWith('}') && bytes.AsSpan().SequenceEqual(reversed)
            && (long)bytes.Length == 8 + (long)n + 4L * c.Tensors.Sum(t => t.Data.Length);
    });

    [Property(MaxTest = 300)]
    public Property Corrupted_files_fail_only_with_ModelFormatException() => Prop.ForAll(
        Files(), Gen.Choose(0, 1 << 30).ArrayOf(4).ToArbitrary(), (c, noise) =>
        {
            byte[] bytes = Writer(c.Tensors, c.Metadata).ToArray();
            if (noise[0] % 3 == 0) bytes = bytes[..(noise[1] % (bytes.Length + 1))]; // truncate
            else
            {
                // flip a byte, mostly in the length prefix and header
                int limit = noise[0] % 3 == 1 ? Math.Min(bytes.Length, 8 + 200) : bytes.Length;
                bytes[noise[1] % limit] ^= (byte)(1 + noise[2] % 255);
                if (noise[3] % 2 == 0) bytes[noise[3] % limit] = (byte)"{}[]\":,0 -9e."[noise[2] % 13];
            }
            try
            {
                SafetensorsFile file = SafetensorsFile.Parse(bytes);
                foreach (SafetensorsTensorInfo t in file.Tensors)
                    if (t.DType is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F64)
                        _ = file.ReadFloat32(t.Name);
                return true;
            }
            catch (ModelFormatException e)
            {
                return e.Message.Length > 0;
            }
        });

    [Fact]
    public void Zero_size_and_scalar_tensors_round_trip()
    {
        byte[] bytes = new SafetensorsWriter()
            .Add("empty", [], [3, 0, 2])
            .Add("scalar", [42f], ReadOnlySpan<long>.Empty)
            .Add("row", [1f, 2f], [1, 2])
            .ToArray();
        SafetensorsFile file = SafetensorsFile.Parse(bytes);
        Assert.Equal(0, file.GetInfo("empty").ElementCount);
        Assert.Equal([3, 0, 2], file.GetInfo("empty").GetShapeInt32());
        Assert.Empty(file.ReadFloat32("empty"));
        Assert.Equal(0, file.GetInfo("scalar").Rank);
        Assert.Equal([42f], file.ReadFloat32("scalar"));
        Assert.Equal(["empty", "row", "scalar"], file.Names);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Writer_rejects_bad_arguments()
    {
        var writer = new SafetensorsWriter().Add("a", [1f], [1]);
        Assert.Throws<ArgumentException>(() => writer.Add("a", [1f], [1]));
        Assert.Throws<ArgumentException>(() => writer.Add("__metadata__", [1f], [1]));
        Assert.Throws<ArgumentException>(() => writer.Add("", [1f], [1]));
        Assert.Contains("has 6 elements", Assert.Throws<ArgumentException>(() => writer.Add("b", [1f], [2, 3])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Add("c", [], [-1, 0]));
        var file = SafetensorsFile.Parse(writer.ToArray());
        Assert.Throws<ArgumentException>(() => file.ReadFloat32("a", new float[2]));
        Assert.Contains("'nope'", Assert.Throws<ModelFormatException>(() => file.ReadFloat32("nope")).Message, StringComparison.Ordinal);
        Assert.False(file.Contains("nope"));
        Assert.True(file.TryGetInfo("a", out SafetensorsTensorInfo? info) && info.ToString() == "a F32 [1]");
    }

    // ---------------------------------------------------------------- atomic save

    [Fact]
    public void Save_replaces_atomically_and_a_failure_leaves_the_old_file()
    {
        string folder = Directory.CreateTempSubdirectory("safetensors-").FullName;
        try
        {
            string path = Path.Combine(folder, "model.safetensors");
            new SafetensorsWriter().Add("w", [1f, 2f], [2]).SetMetadata("v", "1").Save(path);
            byte[] first = File.ReadAllBytes(path);
            Assert.Equal([1f, 2f], SafetensorsFile.Load(path).ReadFloat32("w"));

            var second = new SafetensorsWriter().Add("w", [3f, 4f, 5f], [3]).SetMetadata("v", "2");
            Assert.Throws<IOException>(() => second.Save(path, _ => throw new IOException("disk full (simulated)")));
            Assert.Equal(first, File.ReadAllBytes(path));
            Assert.Equal(["model.safetensors"], Directory.GetFiles(folder).Select(Path.GetFileName));

            second.Save(path);
            SafetensorsFile reloaded = SafetensorsFile.Load(path);
            Assert.Equal([3f, 4f, 5f], reloaded.ReadFloat32("w"));
            Assert.Equal("2", reloaded.Metadata["v"]);
            Assert.Equal(["model.safetensors"], Directory.GetFiles(folder).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Load_of_a_malformed_file_names_the_path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        try
        {
            var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Load(path));
            Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
            Assert.Contains("3 bytes", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Load(path));
    }

    // ---------------------------------------------------------------- malformed files

    private static byte[] Build(string header, int dataLength = 0, ulong? declaredLength = null)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    private static string Entry(string name, string dtype, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}";

    private static void Rejects(byte[] bytes, params string[] expectedInMessage)
    {
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Parse(bytes));
        foreach (string part in expectedInMessage) Assert.Contains(part, e.Message, StringComparison.Ordinal);
        using var stream = new MemoryStream(bytes);
        Assert.Equal(e.Message, Assert.Throws<ModelFormatException>(() => SafetensorsFile.Load(stream)).Message);
        using var forwardOnly = new ForwardOnlyStream(bytes);
        Assert.Throws<ModelFormatException>(() => SafetensorsFile.Load(forwardOnly));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void Files_shorter_than_8_bytes_are_rejected(int length) => Rejects(new byte[length], $"{length} bytes", "too short");

    [Fact]
    public void Header_lengths_past_the_end_or_over_the_limit_are_rejected()
    {
        Rejects(Build("{}", declaredLength: 3), "header length 3 runs past the end of the file (10 bytes)");
        Rejects(Build("{}", declaredLength: 200_000_000), "200000000", "limit");
        Rejects(Build("{}", declaredLength: ulong.MaxValue), "limit");
        Rejects(Build("{}", declaredLength: 99_999_999), "runs past the end");
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("{", "not valid JSON")]
    [InlineData("nonsense", "not valid JSON")]
    [InlineData("{} extra", "not valid JSON")]
    [InlineData("{\"__metadata__\":{\"k\":\"v\",}}", "not valid JSON")]
    [InlineData("{\"a\" 1}", "not valid JSON")]
    [InlineData("{/*c*/}", "not valid JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("\"x\"", "not a JSON object")]
    [InlineData("{\"a\":1}", "Tensor 'a'", "expected an object")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "Tensor 'a'", "'data_offsets' is missing")]
    [InlineData("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "Tensor 'a'", "'dtype' is missing")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "Tensor 'a'", "'shape' is missing")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "Tensor 'a'", "'dtype' appears twice")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", "Tensor 'a'", "unexpected key 'extra'")]
    [InlineData("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "Tensor 'a'", "dtype must be a string")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", "Tensor 'a'", "shape must be an array")]
    [InlineData("{\"__metadata__\":{\"k\":1}}", "__metadata__", "'k' must be a string")]
    [InlineData("{\"__metadata__\":[]}", "__metadata__", "must be an object")]
    [InlineData("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", "key 'k' twice")]
    [InlineData("{\"__metadata__\":{},\"__metadata__\":{}}", "'__metadata__' twice")]
    public void Malformed_headers_are_rejected(string header, params string[] expected) => Rejects(Build(header, 16), expected);

    [Fact]
    public void Deeply_nested_or_huge_headers_fail_fast()
    {
        // The reader walks tokens and stops at the first one out of place: nesting never recurses.
        Rejects(Build(new string('[', 100_000) + new string(']', 100_000)), "not a JSON object");
        Rejects(Build("{\"a\":" + new string('[', 100_000) + new string(']', 100_000) + "}"), "Tensor 'a'", "expected an object");
        Rejects(Build("{\"a\":{\"shape\":" + new string('[', 100_000)), "Tensor 'a'", "shape[0]", "got an array");
        Rejects(Build("{\"__metadata__\":{\"k\":" + new string('{', 5000)), "'k' must be a string");
    }

    [Fact]
    public void Invalid_utf8_is_rejected()
    {
        byte[] bytes = Build("{\"a?\":{}}");
        bytes[8 + 3] = 0xFF;
        Assert.Throws<ModelFormatException>(() => SafetensorsFile.Parse(bytes));
    }

    [Fact]
    public void Duplicate_tensor_names_are_rejected() =>
        Rejects(Build("{" + Entry("w", "F32", "[1]", "[0,4]") + "," + Entry("w", "F32", "[1]", "[4,8]") + "}", 8), "Tensor 'w' appears twice");

    [Theory]
    [InlineData("F33", "unknown dtype 'F33'")]
    [InlineData("f32", "unknown dtype 'f32'")]
    [InlineData("", "unknown dtype ''")]
    public void Unknown_dtypes_are_rejected(string dtype, string expected) =>
        Rejects(Build("{" + Entry("w", dtype, "[1]", "[0,4]") + "}", 4), "Tensor 'w'", expected);

    [Theory]
    [InlineData("[-1]", "shape[0] must be a non-negative 64-bit integer, got -1")]
    [InlineData("[2,2.5]", "shape[1]", "got 2.5")]
    [InlineData("[1e3]", "shape[0]", "got 1e3")]
    [InlineData("[\"1\"]", "shape[0]", "got a string")]
    [InlineData("[99999999999999999999]", "shape[0]")]
    [InlineData("[4294967296,4294967296]", "element count of shape [4294967296, 4294967296] overflows")]
    [InlineData("[2305843009213693952]", "shape [2305843009213693952] of F32 is too large: its byte size overflows")]
    public void Bad_shapes_are_rejected(string shape, params string[] expected) =>
        Rejects(Build("{" + Entry("w", "F32", shape, "[0,4]") + "}", 4), ["Tensor 'w'", .. expected]);

    [Theory]
    [InlineData("[0,8]", 8, "span 8 bytes, but shape [1] of F32 needs 4")]
    [InlineData("[0,2]", 8, "span 2 bytes")]
    [InlineData("[4,12]", 8, "run past the end of the data buffer (8 bytes)")]
    [InlineData("[9223372036854775800,9223372036854775804]", 8, "run past the end")]
    [InlineData("[4,0]", 8, "end before they begin")]
    [InlineData("[0]", 8, "two integers")]
    [InlineData("[0,4,8]", 8, "two integers")]
    [InlineData("[-4,0]", 8, "data_offsets[0] must be a non-negative")]
    public void Bad_offsets_are_rejected(string offsets, int dataLength, string expected) =>
        Rejects(Build("{" + Entry("w", "F32", "[1]", offsets) + "}", dataLength), "Tensor 'w'", expected);

    [Fact]
    public void Overlapping_tensors_are_rejected()
    {
        string header = "{" + Entry("a", "F32", "[2]", "[0,8]") + "," + Entry("b", "F32", "[2]", "[4,12]") + "}";
        Rejects(Build(header, 12), "'a' [0, 8)", "'b' [4, 12)", "overlap");
        // Same range twice is an overlap too; empty tensors occupy nothing, wherever they point.
        Rejects(Build("{" + Entry("a", "F16", "[2]", "[0,4]") + "," + Entry("b", "I32", "[1]", "[0,4]") + "}", 4), "overlap");
        var ok = SafetensorsFile.Parse(Build("{" + Entry("a", "F32", "[2]", "[0,8]") + "," + Entry("e", "F32", "[0,5]", "[4,4]") + "}", 8));
        Assert.Empty(ok.ReadFloat32("e"));
    }

    [Fact]
    public void Other_dtypes_load_but_do_not_convert()
    {
        var file = SafetensorsFile.Parse(Build(
            "{\"__metadata__\":null," + Entry("steps", "I64", "[]", "[0,8]") + "," + Entry("mask", "BOOL", "[3]", "[8,11]") + "}", 11));
        Assert.Equal(SafetensorsDType.I64, file.GetInfo("steps").DType);
        Assert.Equal(8, file.GetBytes("steps").Length);
        Assert.Equal(SafetensorsDType.Bool, file.GetInfo("mask").DType);
        Assert.Contains("Tensor 'steps' is I64", Assert.Throws<ModelFormatException>(() => file.ReadFloat32("steps")).Message, StringComparison.Ordinal);
        Assert.Empty(file.Metadata);
    }

    // ---------------------------------------------------------------- PyTorch fixtures

    public static TheoryData<string> PyTorchCases() => new(Fixtures.List("pytorch", "*.safetensors").Where(n => n != "dtypes.safetensors"));

    private static int Meta(SafetensorsFile f, string key) => int.Parse(f.Metadata[key], CultureInfo.InvariantCulture);

    [Fact]
    public void All_expected_fixtures_are_present()
    {
        string[] names = Fixtures.List("pytorch", "*.safetensors");
        foreach (string cell in new[] { "rnn_tanh", "rnn_relu", "gru", "lstm" })
            foreach (string suffix in new[] { "single", "nobias", "onebias", "bi2", "batchfirst", "head_sigmoid", "head_linear" })
                Assert.Contains($"{cell}_{suffix}.safetensors", names);
        Assert.Contains("gru_lbr0_single.safetensors", names);
        Assert.Contains("dtypes.safetensors", names);
    }

    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void PyTorch_fixture_is_consistent_with_its_metadata(string fileName)
    {
        string path = Fixtures.Get("pytorch", fileName);
        SafetensorsFile file = SafetensorsFile.Load(path);
        Assert.True(file.Tensors.All(t => t.DType == SafetensorsDType.F32));

        // The three readers agree.
        byte[] bytes = System.IO.File.ReadAllBytes(path);
        SafetensorsFile parsed = SafetensorsFile.Parse(bytes);
        Assert.Equal(file.Names, parsed.Names);
        foreach (string name in file.Names) Assert.True(SameBits(file.ReadFloat32(name), parsed.ReadFloat32(name)), name);

        string cell = file.Metadata["cell"];
        int layers = Meta(file, "num_layers"), input = Meta(file, "input_size"), hidden = Meta(file, "hidden_size");
        int steps = Meta(file, "seq_len"), batch = Meta(file, "batch");
        int directions = file.Metadata["bidirectional"] == "true" ? 2 : 1;
        bool batchFirst = file.Metadata["batch_first"] == "true";
        int gates = cell switch { "rnn" => 1, "gru" => 3, "lstm" => 4, _ => throw new InvalidOperationException(cell) };
        Assert.Contains(file.Metadata["nonlinearity"], new[] { "tanh", "relu" });
        if (cell == "gru") Assert.Contains(file.Metadata["linear_before_reset"], new[] { "true", "false" });

        long[] Sequence(int features) => batchFirst ? [batch, steps, features] : [steps, batch, features];
        void Shape(string name, params long[] expected) => Assert.Equal(expected, file.GetInfo(name).Shape);

        Shape("x", Sequence(input));
        Shape("y", Sequence(directions * hidden));
        Shape("dy", Sequence(directions * hidden));
        foreach (string state in cell == "lstm" ? new[] { "h0", "h_n", "dh_n", "c0", "c_n", "dc_n", "grad.c0" } : ["h0", "h_n", "dh_n"])
            Shape(state, layers * directions, batch, hidden);
        Shape("grad.x", Sequence(input));
        Shape("grad.h0", layers * directions, batch, hidden);

        var parameters = new List<string>();
        string bias = file.Metadata["bias"];
        for (int l = 0; l < layers; l++)
            for (int d = 0; d < directions; d++)
            {
                string sfx = $"_l{l}" + (d == 1 ? "_reverse" : "");
                int layerInput = l == 0 ? input : directions * hidden;
                Shape($"rnn.weight_ih{sfx}", gates * hidden, layerInput);
                Shape($"rnn.weight_hh{sfx}", gates * hidden, hidden);
                parameters.AddRange([$"rnn.weight_ih{sfx}", $"rnn.weight_hh{sfx}"]);
                Assert.Equal(bias != "none", file.Contains($"rnn.bias_ih{sfx}"));
                Assert.Equal(bias == "pair", file.Contains($"rnn.bias_hh{sfx}"));
                if (bias != "none") { Shape($"rnn.bias_ih{sfx}", gates * hidden); parameters.Add($"rnn.bias_ih{sfx}"); }
                if (bias == "pair") { Shape($"rnn.bias_hh{sfx}", gates * hidden); parameters.Add($"rnn.bias_hh{sfx}"); }
            }
        string head = file.Metadata["head"];
        if (head != "none")
        {
            int outputs = (int)file.GetInfo("head.weight").Shape[0];
            Shape("head.weight", outputs, directions * hidden);
            Shape("head.bias", outputs);
            Shape("out", Sequence(outputs));
            Shape("dout", Sequence(outputs));
            parameters.AddRange(["head.weight", "head.bias"]);
        }
        else
        {
            Assert.False(file.Contains("out"));
        }
        foreach (string p in parameters) Assert.Equal(file.GetInfo(p).Shape, file.GetInfo("grad." + p).Shape);
        Assert.Equal(parameters.Count, file.Names.Count(n => n.StartsWith("grad.rnn.", StringComparison.Ordinal) || n.StartsWith("grad.head.", StringComparison.Ordinal)));

        // Re-writing every tensor with the writer reproduces them bit for bit.
        var writer = new SafetensorsWriter();
        foreach (SafetensorsTensorInfo t in file.Tensors) writer.Add(t.Name, file.ReadFloat32(t.Name), t.Shape.ToArray());
        foreach (KeyValuePair<string, string> m in file.Metadata) writer.SetMetadata(m.Key, m.Value);
        SafetensorsFile again = SafetensorsFile.Parse(writer.ToArray());
        Assert.Equal(file.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal), again.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal));
        foreach (string name in file.Names) Assert.True(SameBits(file.ReadFloat32(name), again.ReadFloat32(name)), name);
    }

    /// <summary>
    /// An independent check that the reader puts every value where PyTorch meant it: re-run each single-layer
    /// unidirectional Elman fixture's forward pass in double from its weights and compare with PyTorch's outputs.
    /// </summary>
    [Theory]
    [InlineData("rnn_tanh_single")]
    [InlineData("rnn_tanh_nobias")]
    [InlineData("rnn_tanh_onebias")]
    [InlineData("rnn_tanh_batchfirst")]
    [InlineData("rnn_tanh_head_sigmoid")]
    [InlineData("rnn_relu_single")]
    [InlineData("rnn_relu_onebias")]
    [InlineData("rnn_relu_head_linear")]
    public void Elman_fixture_outputs_follow_from_its_weights(string name)
    {
        SafetensorsFile f = SafetensorsFile.Load(Fixtures.Get("pytorch", name + ".safetensors"));
        int input = Meta(f, "input_size"), hidden = Meta(f, "hidden_size"), steps = Meta(f, "seq_len"), batch = Meta(f, "batch");
        bool batchFirst = f.Metadata["batch_first"] == "true", relu = f.Metadata["nonlinearity"] == "relu";
        float[] x = f.ReadFloat32("x"), h0 = f.ReadFloat32("h0"), y = f.ReadFloat32("y"), hn = f.ReadFloat32("h_n");
        float[] wih = f.ReadFloat32("rnn.weight_ih_l0"), whh = f.ReadFloat32("rnn.weight_hh_l0");
        float[] bih = f.Contains("rnn.bias_ih_l0") ? f.ReadFloat32("rnn.bias_ih_l0") : new float[hidden];
        float[] bhh = f.Contains("rnn.bias_hh_l0") ? f.ReadFloat32("rnn.bias_hh_l0") : new float[hidden];
        int Seq(int t, int b, int features) => batchFirst ? (b * steps + t) * features : (t * batch + b) * features;

        var ys = new double[y.Length];
        for (int b = 0; b < batch; b++)
        {
            var h = new double[hidden];
            for (int j = 0; j < hidden; j++) h[j] = h0[b * hidden + j];
            for (int t = 0; t < steps; t++)
            {
                var next = new double[hidden];
                for (int j = 0; j < hidden; j++)
                {
                    double a = (double)bih[j] + bhh[j];
                    for (int i = 0; i < input; i++) a += (double)wih[j * input + i] * x[Seq(t, b, input) + i];
                    for (int i = 0; i < hidden; i++) a += (double)whh[j * hidden + i] * h[i];
                    next[j] = relu ? Math.Max(0, a) : Math.Tanh(a);
                    ys[Seq(t, b, hidden) + j] = next[j];
                }
                h = next;
            }
            for (int j = 0; j < hidden; j++) Assert.Equal(h[j], hn[b * hidden + j], 1e-5);
        }
        for (int k = 0; k < y.Length; k++) Assert.Equal(ys[k], y[k], 1e-5);

        if (f.Metadata["head"] == "none") return;
        float[] w = f.ReadFloat32("head.weight"), bo = f.ReadFloat32("head.bias"), output = f.ReadFloat32("out");
        int outputs = bo.Length;
        for (int r = 0; r < steps * batch; r++)
            for (int o = 0; o < outputs; o++)
            {
                double a = bo[o];
                for (int j = 0; j < hidden; j++) a += (double)w[o * hidden + j] * ys[r * hidden + j];
                if (f.Metadata["head"] == "sigmoid") a = 1 / (1 + Math.Exp(-a));
                Assert.Equal(a, output[r * outputs + o], 1e-5);
            }
    }

    [Theory]
    [InlineData("f16", SafetensorsDType.F16)]
    [InlineData("bf16", SafetensorsDType.BF16)]
    [InlineData("f64", SafetensorsDType.F64)]
    public void Dtype_conversions_match_PyTorch(string name, SafetensorsDType dtype)
    {
        SafetensorsFile f = SafetensorsFile.Load(Fixtures.Get("pytorch", "dtypes.safetensors"));
        SafetensorsTensorInfo info = f.GetInfo(name);
        Assert.Equal(dtype, info.DType);
        Assert.Equal(f.GetInfo("f32").Shape, info.Shape);
        Assert.Equal(SafetensorsDType.F32, f.GetInfo("f32").DType);
        float[] got = f.ReadFloat32(name), expected = f.ReadFloat32(name + "_as_f32");
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
        {
            if (float.IsNaN(expected[i])) Assert.True(float.IsNaN(got[i]), $"{name}[{i}]: expected NaN, got {got[i]}");
            else Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(got[i]), $"{name}[{i}]: expected {expected[i]:R}, got {got[i]:R}");
        }
        // The specials survive: ±0, ±∞ and NaN in the second half.
        Assert.True(float.IsNegative(got[13]) && got[13] == 0 && float.IsPositiveInfinity(got[14]) && float.IsNegativeInfinity(got[15]) && float.IsNaN(got[16]));
        if (dtype == SafetensorsDType.F64) Assert.True(SameBits(got, f.ReadFloat32("f32")));
    }

    /// <summary>A read-only stream that cannot seek, to exercise the reader's non-seekable path.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 3), bytes.Length - _position); // short reads on purpose
            Array.Copy(bytes, _position, buffer, offset, n);
            _position += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
