using System.Globalization;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Onnx;

namespace SimdRnn.Cli;

/// <summary>
/// Describes a model file: the architecture, and for safetensors every tensor with its shape; for ONNX the graph's
/// nodes (op types) and initializers (shapes).
/// </summary>
public static class InspectModel
{
    /// <summary>Writes the description of the model in <paramref name="path"/> to <paramref name="output"/>.</summary>
    /// <param name="path">A PyTorch state_dict as safetensors, or an .onnx model.</param>
    /// <param name="output">Where the lines go.</param>
    /// <returns>The network read from the file.</returns>
    /// <exception cref="ModelFormatException">The file is malformed or holds no recurrent network.</exception>
    public static RecurrentNetwork Run(string path, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (ModelFiles.IsOnnx(path)) return RunOnnx(path, output);
        var file = SafetensorsFile.Load(path);
        var network = ModelFiles.About(path, () => PyTorchModel.Load(file));
        WriteArchitecture(path, network, output);
        output.WriteLine("tensors");
        foreach (var info in file.Tensors) output.WriteLine($"  {info}");
        if (file.Metadata.Count > 0)
        {
            output.WriteLine("metadata");
            foreach (var (key, value) in file.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal)) output.WriteLine($"  {key} = {value}");
        }
        return network;
    }

    private static RecurrentNetwork RunOnnx(string path, TextWriter output)
    {
        var summary = OnnxImport.Describe(path);
        var network = ModelFiles.Load(path, null);
        WriteArchitecture(path, network, output);
        output.WriteLine($"producer    {summary.ProducerName} {summary.ProducerVersion}".TrimEnd());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"onnx        IR {summary.IrVersion}, opset {string.Join(", ", summary.Opsets)}"));
        output.WriteLine($"inputs      {string.Join(", ", summary.Inputs)}");
        output.WriteLine($"outputs     {string.Join(", ", summary.Outputs)}");
        output.WriteLine("nodes");
        foreach (var node in summary.Nodes) output.WriteLine($"  {node}");
        output.WriteLine("initializers");
        foreach (var tensor in summary.Initializers) output.WriteLine($"  {tensor}");
        return network;
    }

    private static void WriteArchitecture(string path, RecurrentNetwork network, TextWriter output)
    {
        var spec = network.Spec;
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"file        {path}");
        output.WriteLine($"cell        {spec.Cell}{(spec.Cell == CellKind.Rnn ? $" ({spec.Nonlinearity.ToString().ToLowerInvariant()})" : "")}{(spec.Cell == CellKind.Gru ? $" (linear_before_reset = {(spec.LinearBeforeReset ? 1 : 0)})" : "")}");
        output.WriteLine(string.Create(inv, $"layers      {spec.Layers}, {(spec.Bidirectional ? "bidirectional" : "unidirectional")}"));
        output.WriteLine(string.Create(inv, $"sizes       input {spec.InputSize}, hidden {spec.HiddenSize}, output {spec.OutputSize}"));
        output.WriteLine($"bias        {spec.Bias switch { BiasMode.Pair => "pair (bias_ih, bias_hh)", BiasMode.Single => "single (bias_ih)", _ => "none" }}");
        output.WriteLine(spec.ReadoutSize > 0
            ? string.Create(inv, $"readout     dense {spec.LayerOutputSize} → {spec.ReadoutSize}, {(spec.ReadoutActivation == ReadoutActivation.Sigmoid ? "sigmoid" : "linear")}")
            : "readout     none");
        output.WriteLine($"layout      {(spec.BatchFirst ? "batch-first [B, T, ·]" : "sequence-first [T, B, ·]")}");
        output.WriteLine(string.Create(inv, $"parameters  {network.ParameterCount:N0}"));
        // The recurrent weight matrices in each format (run/bench --weights); biases and the readout stay fp32.
        var (fp32, rest) = ModelFiles.WeightBytes(network, WeightPrecision.Float32);
        long bf16 = ModelFiles.WeightBytes(network, WeightPrecision.BFloat16).Matrices, int8 = ModelFiles.WeightBytes(network, WeightPrecision.Int8).Matrices;
        output.WriteLine(string.Create(inv, $"weights     weight_ih/weight_hh matrices: fp32 {fp32:N0} bytes, bf16 {bf16:N0} bytes, int8 and int8-int16 {int8:N0} bytes (incl. per-row scales); biases and readout fp32 {rest:N0} bytes"));
    }
}
