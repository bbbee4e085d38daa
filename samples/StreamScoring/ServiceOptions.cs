using System.Globalization;

namespace StreamScoring;

/// <summary>Command line: --engine simdrnn|onnx, --model path.safetensors, --port N (0 = any free port).</summary>
internal sealed record ServiceOptions(string Engine, string? ModelPath, int Port)
{
    public static ServiceOptions Parse(string[] args)
    {
        string engine = "simdrnn";
        string? model = null;
        int port = 0;
        for (int k = 0; k < args.Length; k++)
        {
            string Value() => k + 1 < args.Length ? args[++k] : throw new ArgumentException($"{args[k]} needs a value.");
            switch (args[k])
            {
                case "--engine": engine = Value().ToLowerInvariant(); break;
                case "--model": model = Value(); break;
                case "--port": port = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown argument '{args[k]}'. Usage: [--engine simdrnn|onnx] [--model gru.safetensors] [--port N]");
            }
        }
        return new ServiceOptions(engine, model, port);
    }
}
