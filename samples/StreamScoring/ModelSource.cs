using SimdRnn.Interop;
using SimdRnn.Networks;

namespace StreamScoring;

internal static class ModelSource
{
    /// <summary>The default model's architecture: a GRU 16 → 64 with a sigmoid readout of one score.</summary>
    public static readonly RecurrentSpec DefaultSpec = new(CellKind.Gru, 16, 64) { ReadoutSize = 1, ReadoutActivation = ReadoutActivation.Sigmoid };

    /// <summary>
    /// Loads the safetensors state_dict at <paramref name="path"/>; without one, creates the default GRU (PyTorch's
    /// initialization, seed 1), saves it next to the app and loads it back, so the sample runs out of the box.
    /// </summary>
    public static RecurrentNetwork LoadOrCreate(string? path, out string loadedFrom)
    {
        if (path is null)
        {
            path = Path.Combine(AppContext.BaseDirectory, "stream-scoring-gru.safetensors");
            if (!File.Exists(path)) PyTorchModel.Save(RecurrentNetwork.CreateRandom(DefaultSpec, seed: 1), path);
        }
        loadedFrom = Path.GetFullPath(path);
        var network = PyTorchModel.Load(path);
        var spec = network.Spec;
        if (spec.Bidirectional || spec.OutputSize < 1)
            throw new InvalidOperationException($"{path}: a streaming scorer needs a unidirectional network with an output (got {spec}).");
        return network;
    }
}
