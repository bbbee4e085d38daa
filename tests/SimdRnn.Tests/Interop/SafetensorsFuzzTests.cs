using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using SimdRnn.Interop;
using SimdRnn.Networks;
using Xunit.Abstractions;

namespace SimdRnn.Tests.Interop;

/// <summary>
/// A deterministic mutation fuzzer for the safetensors reader and the PyTorch loader: at least
/// <see cref="Cases"/> files derived from the valid fixtures by byte-level mutations (bit flips, interesting bytes,
/// truncations, splices, header-length rewrites) and JSON-aware ones (dtypes, shapes, data_offsets, duplicate keys,
/// renamed tensors, metadata, deep nesting), stacked one to three deep. Every file must either load (and then read every
/// tensor and run the network on a tiny input) or fail with <see cref="ModelFormatException"/>; anything else — another
/// exception, a case that takes seconds, or one that allocates far more than the file's size — fails the test with the
/// case number and the mutations, and <see cref="Reproduce"/> rebuilds that exact file.
/// </summary>
[Trait("Category", "Interop")]
[Collection(nameof(SafetensorsFuzzTests))]
public class SafetensorsFuzzTests(ITestOutputHelper output)
{
    /// <summary>The base seed; case k uses <see cref="CaseSeed"/>(k).</summary>
    public const int Seed = 20_240_531;

    /// <summary>The number of mutated files one run tries.</summary>
    public const int Cases = 100_000;

    private static readonly TimeSpan TimeBudget = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(10);

    private static readonly Lazy<Fixture[]> Corpus = new(LoadCorpus);

    [Fact]
    public void Mutated_files_load_or_fail_with_ModelFormatException_only()
    {
        Fixture[] corpus = Corpus.Value;
        var run = SimdRnn.Tests.Support.FuzzRunner.Run("safetensors fuzz", Cases, TimeBudget, CaseLimit, 3,
            k => Build(corpus, k), (k, bytes) => (int)Exercise(bytes, viaStream: k % 16 == 0), k => $"seed {CaseSeed(k)}");
        int done = run.Done, rejected = run.Outcomes[(int)Outcome.Rejected];
        int networks = run.Outcomes[(int)Outcome.Ran], loaded = run.Outcomes[(int)Outcome.Parsed] + networks;
        output.WriteLine($"{done} mutated files in {run.Elapsed.TotalSeconds:F1} s: {rejected} rejected with ModelFormatException, " +
                         $"{loaded} parsed, {networks} loaded as networks and run.");
        Assert.True(run.Failures.Count == 0, $"{run.Failures.Count} failure(s):\n" + string.Join("\n\n", run.Failures));
        if (!run.TimeBound) Assert.Equal(Cases, done);
        Assert.True(done >= 1000, $"Only {done} cases in {TimeBudget.TotalSeconds} s.");
        // The mix reaches every stage: most files are rejected, some parse, some load and run.
        Assert.True(rejected > done / 4 && loaded > done / 100 && networks > done / 1000, $"rejected {rejected}, parsed {loaded}, ran {networks} of {done}");
    }

    /// <summary>Rebuilds case <paramref name="k"/> of the fuzz run and exercises it (for a failure the test reported).</summary>
    /// <param name="k">The case number.</param>
    /// <returns>The file and the mutations that made it.</returns>
    public static (byte[] Bytes, string Description) Reproduce(int k)
    {
        (byte[] bytes, string description) = Build(Corpus.Value, k);
        try
        {
            Exercise(bytes, viaStream: true);
        }
        catch (ModelFormatException)
        {
            // Expected for most cases.
        }
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
        foreach (Fixture f in Corpus.Value)
            Assert.Equal(f.Name == "dtypes.safetensors" ? Outcome.Parsed : Outcome.Ran, Exercise(f.Bytes, viaStream: true));
    }

    // ---------------------------------------------------------------- regressions found by the fuzzer

    /// <summary>A fixture with one tensor's header entry rewritten (the data buffer is kept).</summary>
    private static byte[] Rewrite(string fixture, Func<SafetensorsTensorInfo, (string Name, long[] Shape, long Begin, long End)?> change, IEnumerable<string>? extraEntries = null)
    {
        Fixture f = Corpus.Value.Single(c => c.Name == fixture);
        var json = new StringBuilder("{\"__metadata__\":{" + string.Join(",", f.Metadata.Select(m => Quote(m.Key) + ":" + Quote(m.Value))) + "}");
        foreach (SafetensorsTensorInfo t in f.Tensors)
        {
            var (name, shape, begin, end) = change(t) ?? (t.Name, t.Shape.ToArray(), t.DataBegin, t.DataEnd);
            json.Append(CultureInfo.InvariantCulture, $",{Quote(name)}:{{\"dtype\":\"{SafetensorsDTypeName(t.DType)}\",\"shape\":{Ints(shape)},\"data_offsets\":{Ints([begin, end])}}}");
        }
        foreach (string entry in extraEntries ?? []) json.Append(',').Append(entry);
        byte[] header = Encoding.UTF8.GetBytes(json.Append('}').ToString());
        byte[] data = f.Bytes[f.DataStart..];
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    private static ModelFormatException LoadRejects(byte[] bytes, params string[] expected)
    {
        SafetensorsFile file = SafetensorsFile.Parse(bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFormatException>(() => PyTorchModel.Load(file));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16L * bytes.Length + (1 << 20), $"loading a {bytes.Length}-byte file allocated {allocated} bytes before failing: {e.Message}");
        foreach (string part in expected) Assert.Contains(part, e.Message, StringComparison.Ordinal);
        return e;
    }

    [Theory]
    [InlineData(3_000_000L)]
    [InlineData(100_000_000L)]
    [InlineData(int.MaxValue)]
    public void An_empty_head_weight_with_a_huge_row_count_fails_without_allocating_the_network(long rows) =>
        LoadRejects(Rewrite("rnn_tanh_head_linear.safetensors", t => t.Name == "head.weight" ? (t.Name, [rows, 0], t.DataBegin, t.DataBegin) : null), "head.weight");

    [Fact]
    public void Thousands_of_empty_layers_fail_without_allocating_their_weights()
    {
        // weight_ih_l1… as empty tensors: the layer count comes from the names, the expected weights from hidden size 64.
        const int layers = 20_000;
        var extra = Enumerable.Range(1, layers).Select(l => $"\"rnn.weight_ih_l{l}\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}");
        LoadRejects(Rewrite("lstm_single.safetensors", _ => null, extra), "rnn.weight_ih_l1");
    }

    // ---------------------------------------------------------------- the path under test

    private enum Outcome
    {
        Rejected,
        Parsed,
        Ran,
    }

    /// <summary>Parse; read every tensor; load a network; run it on a tiny input. Only ModelFormatException is caught.</summary>
    private static Outcome Exercise(byte[] bytes, bool viaStream)
    {
        SafetensorsFile file;
        try
        {
            file = SafetensorsFile.Parse(bytes);
        }
        catch (ModelFormatException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            if (viaStream)
            {
                using var stream = new MemoryStream(bytes);
                Assert.Equal(e.Message, Assert.Throws<ModelFormatException>(() => SafetensorsFile.Load(stream)).Message);
            }
            return Outcome.Rejected;
        }
        if (viaStream)
        {
            using var stream = new MemoryStream(bytes);
            Assert.Equal(file.Names, SafetensorsFile.Load(stream).Names);
        }
        foreach (SafetensorsTensorInfo t in file.Tensors)
        {
            Assert.Equal(t.ElementCount * t.ElementSize, file.GetBytes(t.Name).Length);
            try
            {
                Assert.Equal(t.ElementCount, file.ReadFloat32(t.Name).LongLength);
            }
            catch (ModelFormatException)
            {
                Assert.False(t.DType is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F64);
            }
        }

        RecurrentNetwork network;
        try
        {
            network = PyTorchModel.Load(file);
        }
        catch (ModelFormatException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            return Outcome.Parsed;
        }

        // A loaded network runs: two steps of one sequence (of each layout), finite input, no exception.
        RecurrentSpec spec = network.Spec;
        const int steps = 2, batch = 1;
        var x = new float[steps * batch * spec.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (i % 7 - 3) * 0.25f;
        var y = new float[steps * batch * spec.OutputSize];
        using (RecurrentSession session = network.CreateSession()) session.Run(x, batch, y);
        if (!spec.Bidirectional)
        {
            RecurrentState state = network.CreateState(batch);
            Assert.NotNull(state);
        }
        return Outcome.Ran;
    }

    // ---------------------------------------------------------------- corpus

    private sealed record Fixture(string Name, byte[] Bytes, int HeaderLength, SafetensorsTensorInfo[] Tensors, KeyValuePair<string, string>[] Metadata)
    {
        public int DataStart => 8 + HeaderLength;
    }

    private static Fixture[] LoadCorpus()
    {
        string[] names = Fixtures.List("pytorch", "*.safetensors");
        Assert.True(names.Length >= 10, "the PyTorch fixtures are missing");
        return names.Select(n =>
        {
            byte[] bytes = File.ReadAllBytes(Fixtures.Get("pytorch", n));
            SafetensorsFile file = SafetensorsFile.Parse(bytes);
            return new Fixture(n, bytes, (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes), file.Tensors.ToArray(),
                file.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal).ToArray());
        }).ToArray();
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
        // Half the cases start from a JSON-aware rewrite of the header (which keeps the file well-formed enough to reach
        // the tensor checks and the loader), then 0–2 byte-level mutations; the rest are byte-level only, 1–3 deep.
        int byteMutations;
        if (random.Next(2) == 0)
        {
            bytes = MutateJson(source, random, log);
            byteMutations = random.Next(4) == 0 ? random.Next(1, 3) : 0;
        }
        else
        {
            bytes = (byte[])source.Bytes.Clone();
            byteMutations = random.Next(1, 4);
        }
        for (int m = 0; m < byteMutations; m++) bytes = MutateBytes(bytes, corpus, random, log);
        return (bytes, log.ToString());
    }

    private static readonly byte[] Interesting = [0, 0xFF, 0x7F, 0x80, 0x01, 0xFE, (byte)'0', (byte)'9', (byte)'-', (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',', (byte)':', (byte)'\\', (byte)' ', (byte)'e', (byte)'.'];

    private static readonly ulong[] InterestingLengths =
    [
        0, 1, 2, 7, 8, 100_000_000, 100_000_001, 99_999_999, (ulong)int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, (ulong)long.MaxValue,
        ulong.MaxValue, ulong.MaxValue - 7, unchecked((ulong)-2L), 1UL << 63, 1UL << 32, 0x2020_2020_2020_2020,
    ];

    private static int Position(byte[] bytes, Random random)
    {
        // Mostly the length prefix and header, where the structure is.
        int headerEnd = bytes.Length >= 8 ? (int)Math.Min((ulong)bytes.Length, 8 + Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(bytes), (ulong)bytes.Length)) : bytes.Length;
        return random.Next(4) != 0 && headerEnd > 0 ? random.Next(headerEnd) : random.Next(bytes.Length);
    }

    private static byte[] MutateBytes(byte[] bytes, Fixture[] corpus, Random random, StringBuilder log)
    {
        if (bytes.Length == 0) { log.Append(" | empty→'{'"); return "{"u8.ToArray(); }
        switch (random.Next(7))
        {
            case 0:
            {
                int flips = 1 + random.Next(8);
                log.Append(" | flip");
                for (int i = 0; i < flips; i++)
                {
                    int p = Position(bytes, random), bit = random.Next(8);
                    bytes[p] ^= (byte)(1 << bit);
                    log.Append(CultureInfo.InvariantCulture, $" {p}.{bit}");
                }
                return bytes;
            }
            case 1:
            {
                int p = Position(bytes, random), run = random.Next(4) == 0 ? 1 + random.Next(16) : 1;
                byte value = Interesting[random.Next(Interesting.Length)];
                log.Append(CultureInfo.InvariantCulture, $" | set [{p}, +{run}) = 0x{value:X2}");
                for (int i = p; i < Math.Min(bytes.Length, p + run); i++) bytes[i] = value;
                return bytes;
            }
            case 2:
            {
                int length = TruncationPoint(bytes, random);
                log.Append(CultureInfo.InvariantCulture, $" | truncate to {length}");
                return bytes[..length];
            }
            case 3:
            {
                Fixture other = corpus[random.Next(corpus.Length)];
                int a = random.Next(2) == 0 ? TruncationPoint(bytes, random) : random.Next(bytes.Length + 1);
                int b = random.Next(2) == 0 ? TruncationPoint(other.Bytes, random) : random.Next(other.Bytes.Length + 1);
                log.Append(CultureInfo.InvariantCulture, $" | splice [0, {a}) + {other.Name}[{b}..]");
                return [.. bytes.AsSpan(0, a), .. other.Bytes.AsSpan(b)];
            }
            case 4:
            {
                if (bytes.Length < 8) return bytes;
                ulong actual = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
                ulong length = random.Next(5) switch
                {
                    0 => InterestingLengths[random.Next(InterestingLengths.Length)],
                    1 => (ulong)(bytes.Length - 8) + (ulong)random.Next(0, 3), // exactly the file, or just past
                    2 => unchecked(actual + (ulong)random.Next(-9, 10)),
                    3 => (ulong)random.Next(0, bytes.Length),
                    _ => unchecked((ulong)-random.NextInt64(1, 1L << 40)), // a negative as u64
                };
                log.Append(CultureInfo.InvariantCulture, $" | header length = {length}");
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
                return bytes;
            }
            case 5:
            {
                // Insert or delete a few bytes in the header (shifts everything after).
                int p = Position(bytes, random);
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
                int p = Position(bytes, random);
                log.Append(CultureInfo.InvariantCulture, $" | random bytes [{p}, +{n})");
                garbage.AsSpan(0, Math.Min(n, bytes.Length - p)).CopyTo(bytes.AsSpan(p));
                return bytes;
            }
        }
    }

    /// <summary>A cut at a structural boundary (inside the prefix, at/around the header's end, a tensor's start or end) or anywhere.</summary>
    private static int TruncationPoint(byte[] bytes, Random random)
    {
        int headerEnd = bytes.Length >= 8 ? (int)Math.Min((ulong)bytes.Length, 8 + Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(bytes), (ulong)bytes.Length)) : 0;
        int point = random.Next(6) switch
        {
            0 => random.Next(0, 9),
            1 => headerEnd + random.Next(-2, 3),
            2 => headerEnd + 4 * random.Next(0, Math.Max(1, (bytes.Length - headerEnd) / 4)), // a float boundary in the data
            3 => bytes.Length - random.Next(1, 5),
            4 => headerEnd > 8 ? random.Next(8, headerEnd) : 0, // inside the JSON
            _ => random.Next(bytes.Length + 1),
        };
        return Math.Clamp(point, 0, bytes.Length);
    }

    /// <summary>One tensor entry as (key, raw JSON value) pairs, so a mutation can write anything there.</summary>
    private sealed class Entry(string name, List<(string Key, string Raw)> fields)
    {
        public string Name { get; set; } = name;
        public List<(string Key, string Raw)> Fields { get; } = fields;
        public string? Raw { get; set; } // replaces the whole object when set
    }

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            if (c is '"' or '\\') sb.Append('\\').Append(c);
            else if (c < ' ') sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else sb.Append(c);
        }
        return sb.Append('"').ToString();
    }

    private static string Ints(IEnumerable<long> values) => "[" + string.Join(",", values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";

    private static readonly string[] DTypes = ["F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL", "F8_E4M3", "U64", "F33", "f32", "", "F32 ", "FLOAT", "F\u00e932", "\u0000"];

    private static readonly string[] RawValues = ["null", "true", "0", "-1", "1.5", "1e3", "\"x\"", "[]", "{}", "[[]]", "[null]", "[\"1\"]", "99999999999999999999", "-0", "[0,0,0]"];

    private static readonly long[] Dimensions = [0, 1, 2, 3, 4, 12, 16, 255, 65_536, 3_000_000, 50_000_000, 200_000_000, int.MaxValue, (long)int.MaxValue + 1, 1L << 32, 1L << 40, 1L << 61, 1L << 62, long.MaxValue];

    private static readonly string[] Names =
    [
        "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "rnn.weight_ih_l1", "rnn.weight_hh_l1",
        "rnn.weight_ih_l0_reverse", "rnn.weight_hh_l0_reverse", "rnn.bias_hh_l0_reverse", "head.weight", "head.bias",
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "x.weight_ih_l0", "head.weight_ih_l0", "__metadata__", "", "rnn.weight_ih_l2", "grad.rnn.weight_ih_l0",
    ];

    private static readonly string[] MetadataKeys = ["cell", "nonlinearity", "head", "batch_first", "linear_before_reset", "num_layers", "hidden_size"];

    private static readonly string[] MetadataValues = ["relu", "tanh", "sigmoid", "linear", "none", "true", "false", "", "7", "-1", "\u00ff"];

    private static byte[] MutateJson(Fixture source, Random random, StringBuilder log)
    {
        var entries = source.Tensors.Select(t => new Entry(t.Name,
        [
            ("dtype", Quote(SafetensorsDTypeName(t.DType))),
            ("shape", Ints(t.Shape)),
            ("data_offsets", Ints([t.DataBegin, t.DataEnd])),
        ])).ToList();
        var metadata = source.Metadata.Select(m => (m.Key, Raw: Quote(m.Value))).ToList();
        string? metadataRaw = null;
        bool metadataFirst = random.Next(2) == 0, duplicateMetadata = false;
        byte[] data = source.Bytes[source.DataStart..];
        int mutations = 1 + random.Next(3);
        for (int m = 0; m < mutations && entries.Count > 0; m++)
        {
            // Half the time a parameter of the network (what the loader looks at), else any tensor.
            List<Entry> parameters = entries.Where(x => !x.Name.StartsWith("grad.", StringComparison.Ordinal) && (x.Name.Contains("weight", StringComparison.Ordinal) || x.Name.Contains("bias", StringComparison.Ordinal))).ToList();
            Entry e = parameters.Count > 0 && random.Next(2) == 0 ? parameters[random.Next(parameters.Count)] : entries[random.Next(entries.Count)];
            Entry other = entries[random.Next(entries.Count)];
            SafetensorsTensorInfo info = source.Tensors.FirstOrDefault(t => t.Name == e.Name) ?? source.Tensors[0];
            switch (random.Next(16))
            {
                case 0:
                {
                    string dtype = DTypes[random.Next(DTypes.Length)];
                    log.Append(CultureInfo.InvariantCulture, $" | {e.Name}.dtype = {Quote(dtype)}");
                    Set(e, "dtype", random.Next(8) == 0 ? RawValues[random.Next(RawValues.Length)] : Quote(dtype));
                    break;
                }
                case 1:
                {
                    // One dimension to -1, 0, huge, …; or extra/missing dimensions.
                    long[] shape = info.Shape.ToArray();
                    string raw;
                    switch (random.Next(5))
                    {
                        case 0 when shape.Length > 0:
                            int d = random.Next(shape.Length);
                            string value = random.Next(4) == 0 ? RawValues[random.Next(RawValues.Length)] : random.Next(3) == 0 ? "-1" : Dimensions[random.Next(Dimensions.Length)].ToString(CultureInfo.InvariantCulture);
                            raw = "[" + string.Join(",", shape.Select((s, i) => i == d ? value : s.ToString(CultureInfo.InvariantCulture))) + "]";
                            break;
                        case 1:
                            raw = Ints(Enumerable.Repeat(random.Next(2) == 0 ? 1L : Dimensions[random.Next(Dimensions.Length)], random.Next(0, 80)));
                            break;
                        case 2:
                            raw = Ints([.. shape, .. Enumerable.Repeat(1L, random.Next(1, 4))]);
                            break;
                        case 3:
                            raw = Ints(shape.Reverse());
                            break;
                        default:
                            raw = Ints(shape.Length > 0 ? shape[..^1] : []);
                            break;
                    }
                    log.Append(CultureInfo.InvariantCulture, $" | {e.Name}.shape = {raw}");
                    Set(e, "shape", raw);
                    break;
                }
                case 2:
                {
                    // Same element count, another shape (parses; the loader must notice): a factorization, or empty.
                    long n = info.ElementCount;
                    long[] shape;
                    if (random.Next(3) == 0)
                    {
                        // An empty tensor with a huge other dimension, taking no bytes.
                        shape = random.Next(2) == 0 ? [Dimensions[random.Next(Dimensions.Length)], 0] : [0, Dimensions[random.Next(Dimensions.Length)]];
                        Set(e, "data_offsets", Ints([info.DataBegin, info.DataBegin]));
                    }
                    else
                    {
                        long f = 1;
                        for (long c = 2; c <= n; c++) if (n % c == 0 && random.Next(3) == 0) { f = c; break; }
                        shape = random.Next(3) switch { 0 => [n], 1 => [f, n / f], _ => [n / f, f, 1] };
                    }
                    log.Append(CultureInfo.InvariantCulture, $" | {e.Name}.shape = {Ints(shape)} (bytes kept)");
                    Set(e, "shape", Ints(shape));
                    break;
                }
                case 3:
                {
                    long begin = info.DataBegin, end = info.DataEnd, length = data.Length;
                    long[] offsets = random.Next(8) switch
                    {
                        0 => [end, begin],
                        1 => [other.Name == e.Name ? begin + 4 : source.Tensors[random.Next(source.Tensors.Length)].DataBegin, end],
                        2 => [begin + 4, end + 4],
                        3 => [begin, length + 1 + random.Next(16)],
                        4 => [length, length + (end - begin)],
                        5 => [Dimensions[random.Next(Dimensions.Length)], Dimensions[random.Next(Dimensions.Length)]],
                        6 => [begin - 4, end - 4],
                        _ => [begin, begin],
                    };
                    string raw = random.Next(6) switch
                    {
                        0 => Ints(offsets.Take(1)),
                        1 => Ints([.. offsets, end]),
                        2 => "[-1," + end.ToString(CultureInfo.InvariantCulture) + "]",
                        _ => Ints(offsets),
                    };
                    log.Append(CultureInfo.InvariantCulture, $" | {e.Name}.data_offsets = {raw}");
                    Set(e, "data_offsets", raw);
                    break;
                }
                case 4:
                {
                    // Overlap: point at another tensor's bytes.
                    SafetensorsTensorInfo target = source.Tensors[random.Next(source.Tensors.Length)];
                    log.Append(CultureInfo.InvariantCulture, $" | {e.Name}.data_offsets = {target.Name}'s");
                    Set(e, "data_offsets", Ints([target.DataBegin, target.DataEnd]));
                    if (random.Next(2) == 0) Set(e, "shape", Ints(target.Shape));
                    break;
                }
                case 5:
                {
                    // Duplicates: the whole entry, a key inside one, the metadata, a metadata key.
                    switch (random.Next(4))
                    {
                        case 0:
                            log.Append(CultureInfo.InvariantCulture, $" | duplicate entry {e.Name}");
                            entries.Insert(random.Next(entries.Count + 1), new Entry(e.Name, [.. e.Fields]));
                            break;
                        case 1:
                            var field = e.Fields[random.Next(e.Fields.Count)];
                            log.Append(CultureInfo.InvariantCulture, $" | duplicate {e.Name}.{field.Key}");
                            e.Fields.Add(field);
                            break;
                        case 2:
                            log.Append(" | duplicate __metadata__");
                            duplicateMetadata = true;
                            break;
                        default:
                            if (metadata.Count == 0) break;
                            var entry = metadata[random.Next(metadata.Count)];
                            log.Append(CultureInfo.InvariantCulture, $" | duplicate metadata key {entry.Key}");
                            metadata.Add(entry);
                            break;
                    }
                    break;
                }
                case 6:
                {
                    // Rename (reaches the loader's name logic: missing, extra, other layers and directions, prefixes).
                    string name = random.Next(4) == 0 ? other.Name : Names[random.Next(Names.Length)];
                    log.Append(CultureInfo.InvariantCulture, $" | rename {e.Name} → {name}");
                    e.Name = name;
                    break;
                }
                case 7:
                    log.Append(CultureInfo.InvariantCulture, $" | remove {e.Name}");
                    entries.Remove(e);
                    break;
                case 8:
                {
                    var field = e.Fields[random.Next(e.Fields.Count)];
                    if (random.Next(2) == 0)
                    {
                        log.Append(CultureInfo.InvariantCulture, $" | remove {e.Name}.{field.Key}");
                        e.Fields.Remove(field);
                    }
                    else
                    {
                        string raw = RawValues[random.Next(RawValues.Length)];
                        log.Append(CultureInfo.InvariantCulture, $" | {e.Name}.{field.Key} = {raw}");
                        Set(e, field.Key, raw);
                    }
                    break;
                }
                case 9:
                {
                    string raw = random.Next(3) switch
                    {
                        0 => RawValues[random.Next(RawValues.Length)],
                        1 => Nest(random),
                        _ => "{\"dtype\":\"F32\",\"shape\":" + Nest(random) + ",\"data_offsets\":[0,0]}",
                    };
                    log.Append(CultureInfo.InvariantCulture, $" | {e.Name} = {Abbreviate(raw)}");
                    e.Raw = raw;
                    break;
                }
                case 10:
                {
                    log.Append(" | extra key");
                    e.Fields.Insert(random.Next(e.Fields.Count + 1), (random.Next(2) == 0 ? "offsets" : "", RawValues[random.Next(RawValues.Length)]));
                    break;
                }
                case 11:
                {
                    // Metadata values the loader reads, or a malformed metadata object.
                    switch (random.Next(4))
                    {
                        case 0:
                            metadataRaw = random.Next(2) == 0 ? RawValues[random.Next(RawValues.Length)] : "{\"k\":" + Nest(random) + "}";
                            log.Append(CultureInfo.InvariantCulture, $" | __metadata__ = {Abbreviate(metadataRaw)}");
                            break;
                        case 1:
                            string key = MetadataKeys[random.Next(MetadataKeys.Length)];
                            string raw = random.Next(5) == 0 ? RawValues[random.Next(RawValues.Length)] : Quote(MetadataValues[random.Next(MetadataValues.Length)]);
                            metadata.RemoveAll(x => x.Key == key);
                            metadata.Add((key, raw));
                            log.Append(CultureInfo.InvariantCulture, $" | metadata {key} = {raw}");
                            break;
                        default:
                            // Several loader-relevant settings at once (these mostly load and run).
                            foreach (string k2 in new[] { "nonlinearity", "head", "batch_first", "linear_before_reset" })
                            {
                                string v = MetadataValues[random.Next(7)];
                                metadata.RemoveAll(x => x.Key == k2);
                                metadata.Add((k2, Quote(v)));
                                log.Append(CultureInfo.InvariantCulture, $" | metadata {k2} = {v}");
                            }
                            break;
                    }
                    break;
                }
                case 12:
                {
                    // The data buffer: shorter, longer, or empty.
                    int length = random.Next(3) switch { 0 => random.Next(data.Length + 1), 1 => data.Length + random.Next(1, 64), _ => 0 };
                    log.Append(CultureInfo.InvariantCulture, $" | data buffer {data.Length} → {length} bytes");
                    var resized = new byte[length];
                    data.AsSpan(0, Math.Min(length, data.Length)).CopyTo(resized);
                    data = resized;
                    break;
                }
                case 13:
                {
                    // Swap two tensors' offsets (sizes may disagree).
                    log.Append(CultureInfo.InvariantCulture, $" | swap data_offsets of {e.Name} and {other.Name}");
                    string a = Get(e, "data_offsets"), b = Get(other, "data_offsets");
                    Set(e, "data_offsets", b);
                    Set(other, "data_offsets", a);
                    break;
                }
                case 14:
                {
                    // Many tensors: the same bytes listed under many names (empty, so they do not overlap), or layers.
                    int n = random.Next(2, 400);
                    bool layers = random.Next(2) == 0;
                    log.Append(CultureInfo.InvariantCulture, $" | {n} extra empty {(layers ? "layer" : "named")} tensors");
                    for (int i = 0; i < n; i++)
                    {
                        string name = layers ? $"rnn.weight_{(i % 2 == 0 ? "ih" : "hh")}_l{i / 2 + 1}" : $"extra{i}";
                        entries.Add(new Entry(name, [("dtype", "\"F32\""), ("shape", random.Next(2) == 0 ? "[0]" : "[" + (i + 1).ToString(CultureInfo.InvariantCulture) + ",0]"), ("data_offsets", "[0,0]")]));
                    }
                    break;
                }
                default:
                {
                    // Reorder the entries (the loader must not depend on the order).
                    log.Append(" | shuffle entries");
                    for (int i = entries.Count - 1; i > 0; i--)
                    {
                        int j = random.Next(i + 1);
                        (entries[i], entries[j]) = (entries[j], entries[i]);
                    }
                    break;
                }
            }
        }

        var json = new StringBuilder("{");
        void Metadata()
        {
            if (metadata.Count == 0 && metadataRaw is null) return;
            if (json.Length > 1) json.Append(',');
            json.Append("\"__metadata__\":").Append(metadataRaw ?? "{" + string.Join(",", metadata.Select(m => Quote(m.Key) + ":" + m.Raw)) + "}");
        }
        if (metadataFirst) Metadata();
        foreach (Entry e in entries)
        {
            if (json.Length > 1) json.Append(',');
            json.Append(Quote(e.Name)).Append(':');
            json.Append(e.Raw ?? "{" + string.Join(",", e.Fields.Select(f => Quote(f.Key) + ":" + f.Raw)) + "}");
        }
        if (!metadataFirst) Metadata();
        if (duplicateMetadata) Metadata();
        json.Append('}');
        byte[] header = Encoding.UTF8.GetBytes(json.ToString());
        int padded = random.Next(2) == 0 ? (header.Length + 7) / 8 * 8 : header.Length;
        var bytes = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        data.CopyTo(bytes, 8 + padded);
        return bytes;
    }

    private static string SafetensorsDTypeName(SafetensorsDType type) => type switch
    {
        SafetensorsDType.Bool => "BOOL",
        SafetensorsDType.F8E5M2 => "F8_E5M2",
        SafetensorsDType.F8E4M3 => "F8_E4M3",
        _ => type.ToString(),
    };

    private static string Nest(Random random)
    {
        int depth = random.Next(4) switch { 0 => random.Next(1, 20), 1 => random.Next(15, 18), 2 => random.Next(60, 70), _ => random.Next(100, 5000) };
        bool closed = random.Next(3) != 0;
        char open = random.Next(2) == 0 ? '[' : '{';
        if (open == '{') return string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + (closed ? new string('}', depth) : "");
        return new string('[', depth) + (closed ? new string(']', depth) : "");
    }

    private static string Abbreviate(string s) => s.Length <= 40 ? s : s[..20] + $"…({s.Length} chars)";

    private static void Set(Entry e, string key, string raw)
    {
        int i = e.Fields.FindIndex(f => f.Key == key);
        if (i >= 0) e.Fields[i] = (key, raw);
        else e.Fields.Add((key, raw));
    }

    private static string Get(Entry e, string key) => e.Fields.FirstOrDefault(f => f.Key == key).Raw ?? "[0,0]";
}

/// <summary>
/// Runs the fuzz test alone: its ~100k files of garbage trigger garbage collections that trim the shared array pool,
/// which would disturb the zero-allocation tests running beside it.
/// </summary>
[CollectionDefinition(nameof(SafetensorsFuzzTests), DisableParallelization = true)]
public sealed class SafetensorsFuzzCollection;
