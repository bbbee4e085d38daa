using System.Runtime.InteropServices;
using System.Security.Cryptography;
using SimdRnn.Networks;

// One line per run: the first 16 hex digits of the SHA-256 of its outputs' bits (and final states). Two builds that
// print the same lines computed the same bits on every run: every cell, 64→128, odd sizes (37→53) and 512→512, one
// and two layers, one and two directions, with and without a readout, fp32, bf16 and int8 weights, B = 1, 5 and 64
// (with and without lengths), and streaming steps of B = 3. Public API only, so it builds against older revisions.
//
//   dotnet OutputHashes.dll OUTPUT_FILE        (the vector width: SIMDRNN_VECTOR_WIDTH, as for the tests)
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: OutputHashes OUTPUT_FILE");
    return 2;
}
var lines = new List<string>();
foreach (var cell in new[] { CellKind.Gru, CellKind.Lstm, CellKind.Rnn })
foreach (var (inputs, hidden) in new[] { (64, 128), (37, 53), (512, 512) })
foreach (var layers in new[] { 1, 2 })
foreach (var bidirectional in new[] { false, true })
foreach (var readout in new[] { 0, 3 })
// Every format the revision defines (by name, so this file builds against revisions before a format existed).
foreach (var precision in Enum.GetValues<WeightPrecision>())
{
    if (hidden == 512 && (layers == 2 || bidirectional || readout > 0)) continue; // the large model once per cell and format
    var spec = new RecurrentSpec(cell, inputs, hidden) { Layers = layers, Bidirectional = bidirectional, ReadoutSize = readout };
    var network = RecurrentNetwork.CreateRandom(spec, 42);
    if (precision != WeightPrecision.Float32) network = network.WithWeightFormat(precision);
    string name = $"{cell} {inputs}x{hidden} L{layers} {(bidirectional ? "bi" : "uni")} readout {readout} {precision}";
    foreach (var (steps, batch) in new[] { (20, 1), (9, 5), (4, 64) })
    {
        using var session = network.CreateSession();
        session.MaxDegreeOfParallelism = 1;
        float[] x = Values(steps * batch * inputs, 1), y = new float[steps * batch * spec.OutputSize];
        float[] hN = new float[layers * spec.Directions * batch * hidden];
        session.Run(x, batch, y, default, default, hN, default);
        lines.Add($"{name} T{steps} B{batch}: {Hash(y)} {Hash(hN)}");
        if (batch == 1) continue;
        int[] lengths = Enumerable.Range(0, batch).Select(b => 1 + b % steps).ToArray();
        session.Run(x, batch, lengths, y, default, default, hN, default);
        lines.Add($"{name} T{steps} B{batch} lengths: {Hash(y)} {Hash(hN)}");
    }
    if (bidirectional) continue;
    var state = network.CreateState(3);
    float[] output = new float[3 * spec.OutputSize], outputs = new float[5 * output.Length];
    for (int t = 0; t < 5; t++)
    {
        state.Step(Values(3 * inputs, 10 + t), output);
        output.CopyTo(outputs, t * output.Length);
    }
    lines.Add($"{name} steps B3: {Hash(outputs)}");
}
File.WriteAllLines(args[0], lines);
Console.WriteLine($"{lines.Count} runs hashed into {args[0]}");
return 0;

static float[] Values(int length, int seed)
{
    var random = new Random(seed);
    var values = new float[length];
    for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
    return values;
}

static string Hash(float[] values) => Convert.ToHexString(SHA256.HashData(MemoryMarshal.AsBytes(values.AsSpan())))[..16];
