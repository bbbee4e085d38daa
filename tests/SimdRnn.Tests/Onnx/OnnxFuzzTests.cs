using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Onnx;
using SimdRnn.Onnx.Protos;
using SimdRnn.Tests.Interop;
using Xunit.Abstractions;

namespace SimdRnn.Tests.Onnx;

/// <summary>
/// A deterministic mutation fuzzer for <see cref="OnnxImport"/>, on the model of <see cref="SafetensorsFuzzTests"/>: at
/// least <see cref="Cases"/> files derived from the torch-exported fixtures in <c>tests/fixtures/onnx</c> by byte-level
/// mutations (bit flips, interesting bytes, truncations at tags, length prefixes, payloads and anywhere, splices of two
/// fixtures, inserted and deleted bytes, length varints made huge, negative, overlong or off by one) and
/// structure-aware ones on the parsed <see cref="ModelProto"/> (op_type, removed/duplicated/reordered nodes and inputs,
/// attribute values, initializer dims, data types, raw_data, swapped and renamed tensors, graph inputs and outputs,
/// opsets), stacked one to three deep. Every file must either load (and then run the network on a tiny input) or fail
/// with <see cref="ModelFormatException"/>; anything else — another exception, a case that takes seconds, or one that
/// allocates far more than the file's size — fails the test with the case number and the mutations, and
/// <see cref="Reproduce"/> rebuilds that exact file.
/// </summary>
[Trait("Category", "Interop")]
[Collection(nameof(OnnxFuzzTests))]
public class OnnxFuzzTests(ITestOutputHelper output)
{
    /// <summary>The base seed; case k uses <see cref="CaseSeed"/>(k).</summary>
    public const int Seed = 20_251_127;

    /// <summary>The number of mutated files one run tries.</summary>
    public const int Cases = 100_000;

    private static readonly TimeSpan TimeBudget = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(10);

    private static readonly Lazy<Fixture[]> Corpus = new(LoadCorpus);

    [Fact]
    public void Mutated_files_load_or_fail_with_ModelFormatException_only()
    {
        Fixture[] corpus = Corpus.Value;
        var run = SimdRnn.Tests.Support.FuzzRunner.Run("onnx fuzz", Cases, TimeBudget, CaseLimit, 3,
            k => Build(corpus, k), (_, bytes) => (int)Exercise(bytes), k => $"seed {CaseSeed(k)}");
        int done = run.Done, malformed = run.Outcomes[(int)Outcome.Malformed], refused = run.Outcomes[(int)Outcome.Refused], ran = run.Outcomes[(int)Outcome.Ran];
        output.WriteLine($"{done} mutated files in {run.Elapsed.TotalSeconds:F1} s: {malformed} rejected as malformed protobuf, " +
                         $"{refused} parsed and refused by the import, {ran} loaded as networks and run (all with ModelFormatException or success).");
        Assert.True(run.Failures.Count == 0, $"{run.Failures.Count} failure(s):\n" + string.Join("\n\n", run.Failures));
        if (!run.TimeBound) Assert.Equal(Cases, done);
        Assert.True(done >= 1000, $"Only {done} cases in {TimeBudget.TotalSeconds} s.");
        // The mix reaches every stage: files the protobuf parser rejects, graphs the import refuses, networks that run.
        Assert.True(malformed > done / 10 && refused > done / 4 && ran > done / 100, $"malformed {malformed}, refused {refused}, ran {ran} of {done}");
    }

    /// <summary>Rebuilds case <paramref name="k"/> of the fuzz run and exercises it (for a failure the test reported).</summary>
    /// <param name="k">The case number.</param>
    /// <returns>The file and the mutations that made it.</returns>
    public static (byte[] Bytes, string Description) Reproduce(int k)
    {
        (byte[] bytes, string description) = Build(Corpus.Value, k);
        Exercise(bytes);
        return (bytes, description);
    }

    [Fact]
    public void The_mutations_are_deterministic()
    {
        foreach (int k in new[] { 0, 1, 7, 4242, 99_999 })
        {
            var (a, da) = Build(Corpus.Value, k);
            var (b, db) = Build(Corpus.Value, k);
            Assert.Equal(da, db);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Every_fixture_loads_and_runs_unmutated()
    {
        Assert.True(Corpus.Value.Length >= 20, "the ONNX fixtures are missing");
        foreach (Fixture f in Corpus.Value) Assert.Equal(Outcome.Ran, Exercise(f.Bytes));
    }

    // ---------------------------------------------------------------- regressions found by the fuzzer

    /// <summary>A fixture's model, changed.</summary>
    private static byte[] Rewrite(string fixture, Action<ModelProto> change)
    {
        ModelProto model = Corpus.Value.Single(f => f.Name == fixture).Model.Clone();
        change(model);
        return model.ToByteArray();
    }

    /// <summary>The bytes are refused with a ModelFormatException naming <paramref name="expected"/>, without allocating much more than the file.</summary>
    private static void LoadRejects(byte[] bytes, params string[] expected)
    {
        OnnxImport.Load(Corpus.Value[0].Bytes); // warm up (JIT, statics), so the measure below is the import's own
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFormatException>(() => OnnxImport.Load(bytes.AsSpan()));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16L * bytes.Length + (1 << 20), $"loading a {bytes.Length}-byte file allocated {allocated} bytes before failing: {e.Message}");
        foreach (string part in expected) Assert.Contains(part, e.Message, StringComparison.Ordinal);
    }

    private static TensorProto Initializer(ModelProto model, Func<TensorProto, bool> which) => model.Graph.Initializer.First(which);

    [Theory]
    [InlineData(3_000_000L)]
    [InlineData(200_000_000L)]
    [InlineData(int.MaxValue)]
    public void A_weight_with_a_huge_claimed_dimension_fails_without_allocating_it(long rows)
    {
        // Case 5807: onnx::RNN_19.dims[1] = 200000000 made a 692-byte file allocate 2.4 GB before the raw_data size was checked.
        byte[] bytes = Rewrite("rnn_tanh_single.onnx", m => Initializer(m, t => t.Dims.Count == 3).Dims[1] = rows);
        LoadRejects(bytes, "W: tensor 'onnx::");
    }

    [Fact]
    public void A_constant_node_with_a_huge_claimed_dimension_fails_without_allocating_it()
    {
        // Case 9358: a Constant node's int64 tensor with dims[0] = 200000000 (1.6 GB claimed, 8 bytes present).
        byte[] bytes = Rewrite("gru_nobias.onnx", m => m.Graph.Node.First(n => n.OpType == "Constant").Attribute[0].T.Dims[0] = 200_000_000);
        LoadRejects(bytes, "raw bytes, expected");
    }

    [Fact]
    public void A_weight_in_float_data_with_a_huge_claimed_dimension_fails_without_allocating_it()
    {
        byte[] bytes = Rewrite("lstm_single.onnx", m =>
        {
            TensorProto w = Initializer(m, t => t.Dims.Count == 3);
            w.FloatData.Add([1f, 2f, 3f]);
            w.RawData = ByteString.Empty;
            w.Dims[2] = 100_000_000;
        });
        LoadRejects(bytes, "float_data values, expected");
    }

    private static TensorProto Int64s(string name, int count)
    {
        var raw = new byte[8 * count];
        for (int i = 0; i < count; i++) BitConverter.TryWriteBytes(raw.AsSpan(8 * i), (long)(i % 3));
        return new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { count }, RawData = ByteString.CopyFrom(raw) };
    }

    [Fact]
    public void A_Concat_of_one_initializer_repeated_thousands_of_times_fails_without_reading_it_each_time()
    {
        // 5000 references to one 160 KB integer initializer (a 200 KB file) read it 5000 times and built a 800 MB result.
        byte[] bytes = Rewrite("gru_single.onnx", m =>
        {
            m.Graph.Initializer.Add(Int64s("big", 20_000));
            var concat = new NodeProto { Name = "cat", OpType = "Concat", Output = { "cat_out" }, Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 } } };
            for (int i = 0; i < 5000; i++) concat.Input.Add("big");
            m.Graph.Node.Insert(0, concat);
        });
        LoadRejects(bytes, "Node 'cat' (Concat)");
    }

    [Fact]
    public void A_chain_of_Concats_that_doubles_a_constant_fails_before_it_grows()
    {
        // Each Concat of the previous one with itself, 8 times over: 30 nodes (about 1 KB) would make 4 × 8^30 integers.
        byte[] bytes = Rewrite("gru_single.onnx", m =>
        {
            m.Graph.Node.Insert(0, new NodeProto { Name = "c0", OpType = "Constant", Output = { "c0" }, Attribute = { new AttributeProto { Name = "value_ints", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 2, 3, 4 } } } });
            for (int level = 1; level <= 30; level++)
            {
                var concat = new NodeProto { Name = $"c{level}", OpType = "Concat", Output = { $"c{level}" } };
                for (int i = 0; i < 8; i++) concat.Input.Add($"c{level - 1}");
                m.Graph.Node.Insert(level, concat);
            }
        });
        LoadRejects(bytes, "(Concat)");
    }

    [Theory]
    [InlineData("MatMul")]
    [InlineData("Add")]
    public void Thousands_of_readout_nodes_over_one_large_weight_fail_without_copying_it_each_time(string op)
    {
        // 3000 copies of the readout's MatMul (or Add) node, each over the same 20,000-column weight (or bias), each
        // made its own transposed copy of it: a 400 KB file allocated gigabytes.
        byte[] bytes = Rewrite("gru_head_linear.onnx", m =>
        {
            NodeProto matmul = m.Graph.Node.Single(n => n.OpType == "MatMul"), add = m.Graph.Node.Single(n => n.OpType == "Add");
            TensorProto w = Initializer(m, t => t.Name == matmul.Input[1]), b = Initializer(m, t => t.Name == add.Input[0] || t.Name == add.Input[1]);
            const int outputs = 20_000;
            long width = w.Dims[0];
            w.Dims[1] = outputs;
            w.RawData = ByteString.CopyFrom(new byte[4 * width * outputs]);
            b.Dims.Clear();
            b.Dims.Add(outputs);
            b.RawData = ByteString.CopyFrom(new byte[4 * outputs]);
            NodeProto copied = op == "MatMul" ? matmul : add;
            int at = m.Graph.Node.IndexOf(copied) + 1;
            for (int k = 0; k < 3000; k++)
            {
                NodeProto copy = copied.Clone();
                copy.Name += $"_{k}";
                for (int o = 0; o < copy.Output.Count; o++) copy.Output[o] += $"_{k}";
                m.Graph.Node.Insert(at, copy);
            }
        });
        LoadRejects(bytes, $"({op})", "second");
    }

    // ---------------------------------------------------------------- the path under test

    private enum Outcome
    {
        Malformed,
        Refused,
        Ran,
    }

    /// <summary>Describe; load; run a loaded network on a tiny input. Only ModelFormatException is caught.</summary>
    private static Outcome Exercise(byte[] bytes)
    {
        try
        {
            OnnxImport.Parse(bytes);
        }
        catch (ModelFormatException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            Assert.Equal(e.Message, Assert.Throws<ModelFormatException>(() => OnnxImport.Load(bytes.AsSpan())).Message);
            return Outcome.Malformed;
        }

        try
        {
            _ = OnnxImport.Describe(bytes);
        }
        catch (ModelFormatException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }

        RecurrentNetwork network;
        try
        {
            network = OnnxImport.Load(bytes.AsSpan());
        }
        catch (ModelFormatException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            return Outcome.Refused;
        }

        // A loaded network runs: two steps of one sequence, finite input, no exception.
        RecurrentSpec spec = network.Spec;
        const int steps = 2, batch = 1;
        var x = new float[steps * batch * spec.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (i % 7 - 3) * 0.25f;
        var y = new float[steps * batch * spec.OutputSize];
        using (RecurrentSession session = network.CreateSession()) session.Run(x, batch, y);
        return Outcome.Ran;
    }

    // ---------------------------------------------------------------- corpus

    /// <summary>A fixture, its parsed model, and the byte positions of its protobuf structure.</summary>
    private sealed record Fixture(string Name, byte[] Bytes, ModelProto Model, int[] Tags, (int Offset, int Size, long Value)[] Lengths, int[] PayloadEnds);

    private static Fixture[] LoadCorpus()
    {
        string[] names = Fixtures.List("onnx", "*.onnx");
        return names.Select(n =>
        {
            byte[] bytes = File.ReadAllBytes(Fixtures.Get("onnx", n));
            var tags = new List<int>();
            var lengths = new List<(int, int, long)>();
            var ends = new List<int>();
            Walk(bytes, 0, bytes.Length, 0, tags, lengths, ends);
            return new Fixture(n, bytes, ModelProto.Parser.ParseFrom(bytes), [.. tags], [.. lengths], [.. ends]);
        }).ToArray();
    }

    /// <summary>Records the wire structure of [start, end): every tag, every length prefix, every payload's end; recurses into payloads that parse as messages.</summary>
    private static bool Walk(byte[] b, int start, int end, int depth, List<int> tags, List<(int, int, long)> lengths, List<int> ends)
    {
        int p = start;
        int tagCount = tags.Count, lengthCount = lengths.Count, endCount = ends.Count;
        while (p < end)
        {
            int tagAt = p;
            if (!ReadVarint(b, ref p, end, out ulong tag) || tag >> 3 == 0) goto fail;
            switch ((int)(tag & 7))
            {
                case 0:
                    if (!ReadVarint(b, ref p, end, out _)) goto fail;
                    break;
                case 1:
                    p += 8;
                    break;
                case 5:
                    p += 4;
                    break;
                case 2:
                {
                    int lengthAt = p;
                    if (!ReadVarint(b, ref p, end, out ulong length) || length > (ulong)(end - p)) goto fail;
                    tags.Add(tagAt);
                    lengths.Add((lengthAt, p - lengthAt, (long)length));
                    int payloadEnd = p + (int)length;
                    if (depth < 8 && length > 1) Walk(b, p, payloadEnd, depth + 1, tags, lengths, ends);
                    ends.Add(payloadEnd);
                    p = payloadEnd;
                    continue;
                }
                default:
                    goto fail;
            }
            if (p > end) goto fail;
            tags.Add(tagAt);
        }
        return true;
    fail:
        // Not a message (a string or packed numbers): forget what this level recorded.
        tags.RemoveRange(tagCount, tags.Count - tagCount);
        lengths.RemoveRange(lengthCount, lengths.Count - lengthCount);
        ends.RemoveRange(endCount, ends.Count - endCount);
        return false;
    }

    private static bool ReadVarint(byte[] b, ref int p, int end, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && p < end; shift += 7)
        {
            byte c = b[p++];
            value |= (ulong)(c & 0x7F) << shift;
            if (c < 0x80) return true;
        }
        return false;
    }

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            byte c = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(c | 0x80) : c);
        }
        while (value != 0);
        return [.. bytes];
    }

    // ---------------------------------------------------------------- mutations

    /// <summary>Case k's random seed: a SplitMix64 step of (Seed, k), so any case rebuilds alone.</summary>
    public static int CaseSeed(int k) => SimdRnn.Tests.Support.FuzzRunner.CaseSeed(Seed, k);

    private static (byte[] Bytes, string Description) Build(Fixture[] corpus, int k)
    {
        var random = new Random(CaseSeed(k));
        Fixture source = corpus[random.Next(corpus.Length)];
        var log = new StringBuilder(source.Name);
        byte[] bytes;
        // Half the cases mutate the parsed model (which keeps the protobuf well-formed, so they reach the graph reader
        // and the network), then 0–2 byte-level mutations; the rest are byte-level only, 1–3 deep.
        int byteMutations;
        if (random.Next(2) == 0)
        {
            bytes = MutateModel(source, random, log);
            byteMutations = random.Next(5) == 0 ? random.Next(1, 3) : 0;
        }
        else
        {
            bytes = (byte[])source.Bytes.Clone();
            byteMutations = random.Next(1, 4);
        }
        for (int m = 0; m < byteMutations; m++) bytes = MutateBytes(bytes, source, corpus, random, log);
        return (bytes, log.ToString());
    }

    private static readonly byte[] Interesting = [0, 0xFF, 0x7F, 0x80, 0x01, 0xFE, 0x08, 0x0A, 0x12, 0x1A, 0x22, 0x3A, 0x4A, 0x0F, 0x10, 0x40];

    private static readonly ulong[] InterestingLengths =
    [
        0, 1, 2, 7, 8, 127, 128, 16_383, 16_384, 100_000_000, (ulong)int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, (ulong)long.MaxValue,
        ulong.MaxValue, unchecked((ulong)-2L), 1UL << 63, 1UL << 32,
    ];

    private static int Position(byte[] bytes, Fixture source, Random random)
    {
        // Half the time a structural position (a tag, a length prefix), else anywhere.
        if (random.Next(2) == 0)
        {
            int p = random.Next(2) == 0 ? source.Tags[random.Next(source.Tags.Length)] : source.Lengths[random.Next(source.Lengths.Length)].Offset;
            if (p < bytes.Length) return p;
        }
        return random.Next(bytes.Length);
    }

    private static byte[] MutateBytes(byte[] bytes, Fixture source, Fixture[] corpus, Random random, StringBuilder log)
    {
        if (bytes.Length == 0) { log.Append(" | empty→0x0A"); return [0x0A]; }
        switch (random.Next(8))
        {
            case 0:
            {
                int flips = 1 + random.Next(8);
                log.Append(" | flip");
                for (int i = 0; i < flips; i++)
                {
                    int p = Position(bytes, source, random), bit = random.Next(8);
                    bytes[p] ^= (byte)(1 << bit);
                    log.Append(CultureInfo.InvariantCulture, $" {p}.{bit}");
                }
                return bytes;
            }
            case 1:
            {
                int p = Position(bytes, source, random), run = random.Next(4) == 0 ? 1 + random.Next(16) : 1;
                byte value = Interesting[random.Next(Interesting.Length)];
                log.Append(CultureInfo.InvariantCulture, $" | set [{p}, +{run}) = 0x{value:X2}");
                for (int i = p; i < Math.Min(bytes.Length, p + run); i++) bytes[i] = value;
                return bytes;
            }
            case 2:
            {
                int length = TruncationPoint(bytes, source, random);
                log.Append(CultureInfo.InvariantCulture, $" | truncate to {length}");
                return bytes[..length];
            }
            case 3:
            {
                Fixture other = corpus[random.Next(corpus.Length)];
                int a = random.Next(2) == 0 ? TruncationPoint(bytes, source, random) : random.Next(bytes.Length + 1);
                int b = random.Next(2) == 0 ? TruncationPoint(other.Bytes, other, random) : random.Next(other.Bytes.Length + 1);
                log.Append(CultureInfo.InvariantCulture, $" | splice [0, {a}) + {other.Name}[{b}..]");
                return [.. bytes.AsSpan(0, a), .. other.Bytes.AsSpan(b)];
            }
            case 4:
            case 5:
            {
                // A length prefix rewritten: huge, negative (ten bytes), overlong (padded with 0x80), off by a little, past the end.
                var (offset, size, actual) = source.Lengths[random.Next(source.Lengths.Length)];
                if (offset + size > bytes.Length) return bytes;
                byte[] replacement;
                string what;
                switch (random.Next(6))
                {
                    case 0:
                        ulong v = InterestingLengths[random.Next(InterestingLengths.Length)];
                        replacement = Varint(v);
                        what = v.ToString(CultureInfo.InvariantCulture);
                        break;
                    case 1:
                        long negative = -random.NextInt64(1, 1L << 40);
                        replacement = Varint(unchecked((ulong)negative));
                        what = negative.ToString(CultureInfo.InvariantCulture);
                        break;
                    case 2:
                    {
                        // The same value with extra continuation bytes: 2..12 bytes in all (more than 10 is malformed).
                        byte[] plain = Varint((ulong)actual);
                        int extra = random.Next(1, 12 - Math.Min(plain.Length, 10) + 1);
                        replacement = [.. plain[..^1].Select(c => c), (byte)(plain[^1] | 0x80), .. Enumerable.Repeat((byte)0x80, extra - 1), 0x00];
                        what = $"{actual} overlong ({replacement.Length} bytes)";
                        break;
                    }
                    case 3:
                    {
                        long delta = random.Next(-3, 4);
                        replacement = Varint((ulong)Math.Max(0, actual + delta));
                        what = $"{actual}{delta:+0;-0;+0}";
                        break;
                    }
                    case 4:
                    {
                        long past = bytes.Length - (offset + size) + random.Next(0, 3);
                        replacement = Varint((ulong)past);
                        what = $"{past} (to the end of the file, or just past)";
                        break;
                    }
                    default:
                        // An unterminated varint: every byte has the continuation bit.
                        replacement = [.. Enumerable.Repeat((byte)0xFF, random.Next(1, 11))];
                        what = $"unterminated ({replacement.Length} bytes)";
                        break;
                }
                log.Append(CultureInfo.InvariantCulture, $" | length at {offset} ({actual}) = {what}");
                return [.. bytes.AsSpan(0, offset), .. replacement, .. bytes.AsSpan(offset + size)];
            }
            case 6:
            {
                // Insert or delete a few bytes (shifts everything after).
                int p = Position(bytes, source, random);
                if (random.Next(2) == 0)
                {
                    int n = Math.Min(1 + random.Next(8), bytes.Length - p);
                    log.Append(CultureInfo.InvariantCulture, $" | delete [{p}, +{n})");
                    return [.. bytes.AsSpan(0, p), .. bytes.AsSpan(p + n)];
                }
                byte value = Interesting[random.Next(Interesting.Length)];
                int count = 1 + random.Next(4);
                log.Append(CultureInfo.InvariantCulture, $" | insert {count}×0x{value:X2} at {p}");
                return [.. bytes.AsSpan(0, p), .. Enumerable.Repeat(value, count), .. bytes.AsSpan(p)];
            }
            default:
            {
                // Random garbage over a stretch, or appended.
                int n = 1 + random.Next(64);
                var garbage = new byte[n];
                random.NextBytes(garbage);
                if (random.Next(3) == 0)
                {
                    log.Append(CultureInfo.InvariantCulture, $" | append {n} random bytes");
                    return [.. bytes, .. garbage];
                }
                int p = Position(bytes, source, random);
                log.Append(CultureInfo.InvariantCulture, $" | random bytes [{p}, +{n})");
                garbage.AsSpan(0, Math.Min(n, bytes.Length - p)).CopyTo(bytes.AsSpan(p));
                return bytes;
            }
        }
    }

    /// <summary>A cut at a structural position (a tag, inside or right after a length prefix, a payload's end ± 1) or anywhere.</summary>
    private static int TruncationPoint(byte[] bytes, Fixture source, Random random)
    {
        int point = random.Next(6) switch
        {
            0 => source.Tags[random.Next(source.Tags.Length)],
            1 => source.Lengths[random.Next(source.Lengths.Length)] is var l ? l.Offset + random.Next(l.Size + 1) : 0,
            2 => source.PayloadEnds[random.Next(source.PayloadEnds.Length)] + random.Next(-1, 2),
            3 => bytes.Length - random.Next(1, 5),
            4 => random.Next(0, 4),
            _ => random.Next(bytes.Length + 1),
        };
        return Math.Clamp(point, 0, bytes.Length);
    }

    private static readonly string[] OpTypes =
    [
        "RNN", "GRU", "LSTM", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Concat", "Slice", "Gather", "Identity", "Cast",
        "Constant", "MatMul", "Gemm", "Add", "Sigmoid", "Relu", "", "lstm", "Loop", "If",
    ];

    private static readonly long[] Dimensions =
    [
        0, 1, 2, 3, 4, 5, 12, 16, 255, 65_536, 3_000_000, 50_000_000, 200_000_000, int.MaxValue, (long)int.MaxValue + 1, 1L << 32, 1L << 40, 1L << 62, long.MaxValue,
        -1, -2, long.MinValue,
    ];

    private static readonly long[] IntValues = [0, 1, 2, 3, -1, -2, 4, 5, 7, 8, 16, 100_000, int.MaxValue, (long)int.MaxValue + 1, long.MaxValue, long.MinValue];

    private static readonly string[] Directions = ["forward", "bidirectional", "reverse", "", "Forward", "bidirectional\0", "\u00ff"];

    private static readonly string[] Activations = ["Sigmoid", "Tanh", "Relu", "tanh", "relu", "HardSigmoid", "Affine", "", "LeakyRelu"];

    private static readonly string[] AttributeNames =
    [
        "hidden_size", "direction", "linear_before_reset", "activations", "clip", "layout", "input_forget", "activation_alpha", "activation_beta",
        "perm", "axes", "axis", "starts", "ends", "to", "transA", "transB", "alpha", "beta", "allowzero", "value", "value_int", "value_ints",
        "value_float", "value_floats", "unknown",
    ];

    private static byte[] MutateModel(Fixture source, Random random, StringBuilder log)
    {
        ModelProto model = source.Model.Clone();
        GraphProto graph = model.Graph;
        int mutations = 1 + random.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            if (model.Graph is null) break;
            var nodes = graph.Node;
            var names = AllNames(graph);
            switch (random.Next(14))
            {
                case 0 when nodes.Count > 0:
                {
                    NodeProto node = Pick(nodes, random);
                    string op = OpTypes[random.Next(OpTypes.Length)];
                    log.Append(CultureInfo.InvariantCulture, $" | {node.Name}.op_type = {op}");
                    node.OpType = op;
                    if (random.Next(8) == 0) { node.Domain = random.Next(2) == 0 ? "ai.onnx" : "com.microsoft"; log.Append(CultureInfo.InvariantCulture, $" domain {node.Domain}"); }
                    break;
                }
                case 1 when nodes.Count > 0:
                {
                    // Remove, duplicate or move a node.
                    int i = random.Next(nodes.Count);
                    NodeProto node = nodes[i];
                    switch (random.Next(4))
                    {
                        case 3:
                        {
                            // Many copies, each with its own outputs (every copy redoes the node's work).
                            int n = random.Next(2) == 0 ? random.Next(2, 10) : random.Next(100, 3000);
                            log.Append(CultureInfo.InvariantCulture, $" | {n} copies of node {node.Name}");
                            for (int c = 0; c < n; c++)
                            {
                                NodeProto many = node.Clone();
                                for (int o = 0; o < many.Output.Count; o++) many.Output[o] += string.Create(CultureInfo.InvariantCulture, $"_{c}");
                                nodes.Insert(i + 1, many);
                            }
                            break;
                        }
                        case 0:
                            log.Append(CultureInfo.InvariantCulture, $" | remove node {node.Name}");
                            nodes.RemoveAt(i);
                            break;
                        case 1:
                            int at = random.Next(nodes.Count + 1);
                            log.Append(CultureInfo.InvariantCulture, $" | duplicate node {node.Name} at {at}");
                            NodeProto copy = node.Clone();
                            if (random.Next(2) == 0)
                            {
                                // With fresh outputs, so the duplicate is not refused for redefining them.
                                for (int o = 0; o < copy.Output.Count; o++) copy.Output[o] += "_dup";
                                log.Append(" (outputs renamed)");
                            }
                            nodes.Insert(at, copy);
                            break;
                        default:
                            int to = random.Next(nodes.Count);
                            log.Append(CultureInfo.InvariantCulture, $" | move node {node.Name} {i} → {to}");
                            nodes.RemoveAt(i);
                            nodes.Insert(to, node);
                            break;
                    }
                    break;
                }
                case 2 when nodes.Count > 0:
                {
                    // Inputs: removed, emptied, pointed elsewhere, duplicated, or many more.
                    NodeProto node = Pick(nodes, random);
                    int i = node.Input.Count > 0 ? random.Next(node.Input.Count) : 0;
                    switch (random.Next(6))
                    {
                        case 0 when node.Input.Count > 0:
                            log.Append(CultureInfo.InvariantCulture, $" | {node.Name}: remove input {i}");
                            node.Input.RemoveAt(i);
                            break;
                        case 1 when node.Input.Count > 0:
                            log.Append(CultureInfo.InvariantCulture, $" | {node.Name}: input {i} = ''");
                            node.Input[i] = "";
                            break;
                        case 2 when node.Input.Count > 0:
                        {
                            string name = random.Next(8) == 0 ? "nowhere" : names[random.Next(names.Count)];
                            log.Append(CultureInfo.InvariantCulture, $" | {node.Name}: input {i} = {name}");
                            node.Input[i] = name;
                            break;
                        }
                        case 3 when node.Input.Count > 0:
                            log.Append(CultureInfo.InvariantCulture, $" | {node.Name}: duplicate input {i}");
                            node.Input.Insert(random.Next(node.Input.Count + 1), node.Input[i]);
                            break;
                        case 4:
                        {
                            // The same value many times (amplification: one tensor referenced by thousands of inputs).
                            string name = node.Input.Count > 0 && random.Next(2) == 0 ? node.Input[i] : names[random.Next(names.Count)];
                            int n = random.Next(2) == 0 ? random.Next(2, 10) : random.Next(100, 3000);
                            log.Append(CultureInfo.InvariantCulture, $" | {node.Name}: {n} more inputs {name}");
                            for (int j = 0; j < n; j++) node.Input.Add(name);
                            if (random.Next(3) == 0)
                            {
                                // …as a Concat (of constants, when the value is one: shape arithmetic).
                                log.Append(" as a Concat");
                                node.OpType = "Concat";
                                node.Attribute.Clear();
                            }
                            break;
                        }
                        default:
                        {
                            int o = node.Output.Count > 0 ? random.Next(node.Output.Count) : 0;
                            string name = random.Next(3) == 0 ? "" : names[random.Next(names.Count)];
                            if (node.Output.Count == 0 || random.Next(3) == 0) { node.Output.Add(name); log.Append(CultureInfo.InvariantCulture, $" | {node.Name}: extra output '{name}'"); }
                            else { node.Output[o] = name; log.Append(CultureInfo.InvariantCulture, $" | {node.Name}: output {o} = '{name}'"); }
                            break;
                        }
                    }
                    break;
                }
                case 3:
                case 4:
                case 5:
                {
                    // Attributes, mostly of the recurrent nodes (hidden_size, direction, linear_before_reset, activations, …).
                    var recurrent = nodes.Where(n => n.OpType is "RNN" or "GRU" or "LSTM").ToList();
                    NodeProto? node = recurrent.Count > 0 && random.Next(3) != 0 ? recurrent[random.Next(recurrent.Count)] : nodes.Count > 0 ? Pick(nodes, random) : null;
                    if (node is null) break;
                    MutateAttribute(node, random, log);
                    break;
                }
                case 6:
                case 7:
                case 8:
                {
                    // Initializers and Constant-node tensors.
                    var tensors = graph.Initializer.Concat(nodes.SelectMany(n => n.Attribute).Where(a => a.T is not null).Select(a => a.T)).ToList();
                    if (tensors.Count == 0) break;
                    MutateTensor(Pick(tensors, random), tensors, random, log);
                    break;
                }
                case 9 when graph.Initializer.Count > 0:
                {
                    // Remove, duplicate, swap initializers (whole, or data only).
                    int i = random.Next(graph.Initializer.Count), j = random.Next(graph.Initializer.Count);
                    TensorProto a = graph.Initializer[i], b = graph.Initializer[j];
                    switch (random.Next(4))
                    {
                        case 0:
                            log.Append(CultureInfo.InvariantCulture, $" | remove initializer {a.Name}");
                            graph.Initializer.RemoveAt(i);
                            break;
                        case 1:
                            log.Append(CultureInfo.InvariantCulture, $" | duplicate initializer {a.Name}");
                            graph.Initializer.Insert(random.Next(graph.Initializer.Count + 1), a.Clone());
                            break;
                        case 2:
                            log.Append(CultureInfo.InvariantCulture, $" | swap initializer names {a.Name} ↔ {b.Name}");
                            (a.Name, b.Name) = (b.Name, a.Name);
                            break;
                        default:
                            log.Append(CultureInfo.InvariantCulture, $" | swap initializer data {a.Name} ↔ {b.Name}");
                            (a.RawData, b.RawData) = (b.RawData, a.RawData);
                            break;
                    }
                    break;
                }
                case 10:
                {
                    // Graph inputs and outputs: removed, renamed, added.
                    var list = random.Next(2) == 0 ? graph.Input : graph.Output;
                    string which = ReferenceEquals(list, graph.Input) ? "input" : "output";
                    if (list.Count > 0 && random.Next(3) == 0)
                    {
                        int i = random.Next(list.Count);
                        log.Append(CultureInfo.InvariantCulture, $" | remove graph {which} {list[i].Name}");
                        list.RemoveAt(i);
                    }
                    else
                    {
                        string name = random.Next(4) == 0 ? "" : names[random.Next(names.Count)];
                        if (list.Count > 0 && random.Next(2) == 0)
                        {
                            int i = random.Next(list.Count);
                            log.Append(CultureInfo.InvariantCulture, $" | graph {which} {list[i].Name} → '{name}'");
                            list[i].Name = name;
                        }
                        else
                        {
                            log.Append(CultureInfo.InvariantCulture, $" | extra graph {which} '{name}'");
                            list.Add(new ValueInfoProto { Name = name });
                        }
                    }
                    break;
                }
                case 11:
                {
                    // Rename a value everywhere, or in one place only.
                    if (names.Count == 0) break;
                    string from = names[random.Next(names.Count)];
                    string to = random.Next(3) switch { 0 => "", 1 => names[random.Next(names.Count)], _ => from + "'" };
                    bool everywhere = random.Next(2) == 0;
                    log.Append(CultureInfo.InvariantCulture, $" | rename {from} → '{to}'{(everywhere ? " everywhere" : " in its definition")}");
                    foreach (TensorProto t in graph.Initializer) if (t.Name == from) t.Name = to;
                    foreach (NodeProto n in nodes)
                    {
                        for (int o = 0; o < n.Output.Count; o++) if (n.Output[o] == from) n.Output[o] = to;
                        if (everywhere) for (int o = 0; o < n.Input.Count; o++) if (n.Input[o] == from) n.Input[o] = to;
                    }
                    foreach (ValueInfoProto v in graph.Input.Concat(graph.Output)) if (v.Name == from && everywhere) v.Name = to;
                    break;
                }
                case 12:
                {
                    // Opsets and the graph itself.
                    switch (random.Next(4))
                    {
                        case 0:
                            long version = IntValues[random.Next(IntValues.Length)] is var v && v is >= 0 and < 20 ? v + random.Next(0, 14) : v;
                            log.Append(CultureInfo.InvariantCulture, $" | opset = {version}");
                            model.OpsetImport.Clear();
                            model.OpsetImport.Add(new OperatorSetIdProto { Domain = random.Next(3) == 0 ? "ai.onnx" : "", Version = version });
                            break;
                        case 1:
                            log.Append(" | no graph");
                            model.Graph = null;
                            break;
                        case 2:
                            log.Append(" | no nodes");
                            nodes.Clear();
                            break;
                        default:
                            log.Append(" | shuffle nodes");
                            var shuffled = nodes.ToList();
                            for (int i = shuffled.Count - 1; i > 0; i--)
                            {
                                int j = random.Next(i + 1);
                                (shuffled[i], shuffled[j]) = (shuffled[j], shuffled[i]);
                            }
                            nodes.Clear();
                            nodes.Add(shuffled);
                            break;
                    }
                    break;
                }
                default:
                {
                    // A layer more: a recurrent node copied on top of the last one (its own outputs; sometimes its own weights).
                    var recurrent = nodes.Where(n => n.OpType is "RNN" or "GRU" or "LSTM").ToList();
                    if (recurrent.Count == 0) break;
                    NodeProto copy = recurrent[^1].Clone();
                    copy.Name += "_extra";
                    if (copy.Input.Count > 0) copy.Input[0] = random.Next(2) == 0 ? recurrent[^1].Output[0] : names[random.Next(names.Count)];
                    for (int o = 0; o < copy.Output.Count; o++) copy.Output[o] += "_extra";
                    int at = nodes.IndexOf(recurrent[^1]) + 1 + random.Next(0, 2);
                    log.Append(CultureInfo.InvariantCulture, $" | extra layer {copy.Name} at {Math.Min(at, nodes.Count)}");
                    nodes.Insert(Math.Min(at, nodes.Count), copy);
                    break;
                }
            }
        }
        return model.ToByteArray();
    }

    private static void MutateAttribute(NodeProto node, Random random, StringBuilder log)
    {
        var attributes = node.Attribute;
        AttributeProto? existing = attributes.Count > 0 && random.Next(3) != 0 ? attributes[random.Next(attributes.Count)] : null;
        string name = existing?.Name ?? AttributeNames[random.Next(AttributeNames.Length)];
        AttributeProto a = existing ?? new AttributeProto { Name = name };
        if (existing is null) attributes.Add(a);
        log.Append(CultureInfo.InvariantCulture, $" | {node.Name}.{name}");
        switch (random.Next(10))
        {
            case 0:
                log.Append(" removed");
                attributes.Remove(a);
                return;
            case 1:
            {
                string value = name == "activations" ? Activations[random.Next(Activations.Length)] : Directions[random.Next(Directions.Length)];
                log.Append(CultureInfo.InvariantCulture, $".s = '{value}'");
                a.S = ByteString.CopyFromUtf8(value);
                a.Type = AttributeProto.Types.AttributeType.String;
                return;
            }
            case 2:
            {
                // A list of activations: defaults, one too many or too few, mixed, invalid UTF-8.
                int n = random.Next(0, 8);
                a.Strings.Clear();
                for (int i = 0; i < n; i++)
                    a.Strings.Add(random.Next(10) == 0 ? ByteString.CopyFrom(0xC3, 0x28) : ByteString.CopyFromUtf8(Activations[random.Next(Activations.Length)]));
                a.Type = AttributeProto.Types.AttributeType.Strings;
                log.Append(CultureInfo.InvariantCulture, $".strings = [{string.Join(", ", a.Strings.Select(s => s.ToStringUtf8()))}]");
                return;
            }
            case 3:
            {
                // An integer list: perm, axes, starts, ends — plausible, out of range, or long.
                int n = random.Next(4) == 0 ? random.Next(100, 2000) : random.Next(0, 6);
                a.Ints.Clear();
                for (int i = 0; i < n; i++) a.Ints.Add(random.Next(3) == 0 ? IntValues[random.Next(IntValues.Length)] : random.Next(-4, 5));
                a.Type = AttributeProto.Types.AttributeType.Ints;
                log.Append(CultureInfo.InvariantCulture, $".ints = [{string.Join(", ", a.Ints.Take(8))}{(n > 8 ? $", … ({n})" : "")}]");
                return;
            }
            case 4:
            {
                float f = random.Next(5) switch { 0 => float.NaN, 1 => float.PositiveInfinity, 2 => 0f, 3 => -1f, _ => 0.5f };
                log.Append(CultureInfo.InvariantCulture, $".f = {f}");
                a.F = f;
                if (random.Next(2) == 0) a.Floats.Add(f);
                a.Type = AttributeProto.Types.AttributeType.Float;
                return;
            }
            case 5:
            {
                log.Append(" type changed");
                a.Type = (AttributeProto.Types.AttributeType)random.Next(0, 16);
                if (random.Next(2) == 0) { a.ClearI(); a.ClearS(); a.Ints.Clear(); a.Strings.Clear(); log.Append(", value cleared"); }
                return;
            }
            case 6:
            {
                log.Append(" renamed");
                a.Name = AttributeNames[random.Next(AttributeNames.Length)];
                log.Append(CultureInfo.InvariantCulture, $" {a.Name}");
                return;
            }
            case 7:
            {
                log.Append(" duplicated");
                attributes.Add(a.Clone());
                if (random.Next(2) == 0) { attributes[^1].I = IntValues[random.Next(IntValues.Length)]; log.Append(CultureInfo.InvariantCulture, $" with .i = {attributes[^1].I}"); }
                return;
            }
            default:
            {
                // An integer: hidden_size, linear_before_reset, layout, axis, to, transB, … — plausible or extreme.
                long i = random.Next(2) == 0 ? IntValues[random.Next(IntValues.Length)] : a.I + random.Next(-2, 3);
                log.Append(CultureInfo.InvariantCulture, $".i = {i}");
                a.I = i;
                a.Type = AttributeProto.Types.AttributeType.Int;
                return;
            }
        }
    }

    private static void MutateTensor(TensorProto t, List<TensorProto> all, Random random, StringBuilder log)
    {
        string name = t.Name.Length > 0 ? t.Name : "(constant)";
        switch (random.Next(9))
        {
            case 0:
            case 1:
            {
                // One dimension to 0, negative, huge or off by one; the bytes kept.
                if (t.Dims.Count == 0) goto case 2;
                int d = random.Next(t.Dims.Count);
                long value = random.Next(3) == 0 ? t.Dims[d] + random.Next(-1, 2) : Dimensions[random.Next(Dimensions.Length)];
                log.Append(CultureInfo.InvariantCulture, $" | {name}.dims[{d}] = {value}");
                t.Dims[d] = value;
                if (random.Next(4) == 0 && value != 0)
                {
                    // …and another to 0, so the claimed size is 0 while one dimension is huge.
                    int e = random.Next(t.Dims.Count);
                    t.Dims[e] = 0;
                    log.Append(CultureInfo.InvariantCulture, $", dims[{e}] = 0");
                }
                break;
            }
            case 2:
            {
                // Wrong rank: a dimension added or dropped, the dims reversed, the element count factored differently.
                long[] dims = [.. t.Dims];
                long count = dims.Aggregate(1L, (p, x) => unchecked(p * x));
                long[] next = random.Next(5) switch
                {
                    0 => [.. dims, 1],
                    1 => dims.Length > 0 ? dims[..^1] : [],
                    2 => [.. dims.Reverse()],
                    3 => [count],
                    _ => [.. Enumerable.Repeat(1L, random.Next(0, 70)), count],
                };
                log.Append(CultureInfo.InvariantCulture, $" | {name}.dims = [{string.Join(", ", next.Take(8))}{(next.Length > 8 ? ", …" : "")}]");
                t.Dims.Clear();
                t.Dims.Add(next);
                break;
            }
            case 3:
            {
                int type = random.Next(3) switch { 0 => random.Next(0, 17), 1 => random.Next(2) == 0 ? 6 : 7, _ => random.Next(2) == 0 ? -1 : 1000 };
                log.Append(CultureInfo.InvariantCulture, $" | {name}.data_type = {type}");
                t.DataType = type;
                break;
            }
            case 4:
            {
                // raw_data truncated, extended, emptied, or made odd-sized.
                int length = t.RawData.Length;
                int next = random.Next(4) switch { 0 => random.Next(length + 1), 1 => length + random.Next(1, 9), 2 => 0, _ => Math.Max(0, length - random.Next(1, 4)) };
                log.Append(CultureInfo.InvariantCulture, $" | {name}.raw_data {length} → {next} bytes");
                var bytes = new byte[next];
                t.RawData.Span[..Math.Min(length, next)].CopyTo(bytes);
                t.RawData = ByteString.CopyFrom(bytes);
                break;
            }
            case 5:
            {
                // The data moved to (or duplicated in) the typed fields.
                int n = random.Next(4) == 0 ? random.Next(0, 2000) : t.RawData.Length / 4 + random.Next(-1, 2);
                bool clearRaw = random.Next(2) == 0;
                log.Append(CultureInfo.InvariantCulture, $" | {name}: {n} float_data/int32_data/int64_data values{(clearRaw ? ", raw_data cleared" : "")}");
                for (int i = 0; i < n; i++)
                {
                    t.FloatData.Add(i * 0.01f);
                    t.Int32Data.Add(i);
                    t.Int64Data.Add(i);
                }
                if (clearRaw) t.RawData = ByteString.Empty;
                break;
            }
            case 6:
            {
                // External data, a segment, string data.
                switch (random.Next(3))
                {
                    case 0:
                        log.Append(CultureInfo.InvariantCulture, $" | {name}: external data");
                        t.DataLocation = TensorProto.Types.DataLocation.External;
                        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../../etc/passwd" });
                        break;
                    case 1:
                        log.Append(CultureInfo.InvariantCulture, $" | {name}: segment");
                        t.Segment = new TensorProto.Types.Segment { Begin = 0, End = 1 };
                        break;
                    default:
                        log.Append(CultureInfo.InvariantCulture, $" | {name}: string_data");
                        t.StringData.Add(ByteString.CopyFromUtf8("x"));
                        break;
                }
                break;
            }
            case 7:
            {
                // Another tensor's contents (dims, type and data), the name kept.
                TensorProto other = all[random.Next(all.Count)];
                log.Append(CultureInfo.InvariantCulture, $" | {name} ← contents of {other.Name}");
                string keep = t.Name;
                t.MergeFrom(other);
                t.Dims.Clear();
                t.Dims.Add(other.Dims);
                t.RawData = other.RawData;
                t.Name = keep;
                break;
            }
            default:
            {
                // Random float values in the data: NaN, ∞, huge (the network must still run).
                if (t.RawData.Length < 4) break;
                byte[] bytes = t.RawData.ToByteArray();
                int at = 4 * random.Next(bytes.Length / 4);
                float value = random.Next(4) switch { 0 => float.NaN, 1 => float.PositiveInfinity, 2 => float.MaxValue, _ => -1e30f };
                BitConverter.TryWriteBytes(bytes.AsSpan(at), value);
                log.Append(CultureInfo.InvariantCulture, $" | {name}.raw_data[{at}] = {value}");
                t.RawData = ByteString.CopyFrom(bytes);
                break;
            }
        }
    }

    private static List<string> AllNames(GraphProto graph)
    {
        var names = new List<string>();
        names.AddRange(graph.Input.Select(v => v.Name));
        names.AddRange(graph.Initializer.Select(t => t.Name));
        foreach (NodeProto n in graph.Node) names.AddRange(n.Output);
        if (names.Count == 0) names.Add("x");
        return names;
    }

    private static T Pick<T>(IList<T> list, Random random) => list[random.Next(list.Count)];
}

/// <summary>
/// Runs the ONNX fuzz test alone: its ~100k files of garbage trigger garbage collections that trim the shared array
/// pool, which would disturb the zero-allocation tests running beside it.
/// </summary>
[CollectionDefinition(nameof(OnnxFuzzTests), DisableParallelization = true)]
public sealed class OnnxFuzzCollection;
