using SharpFuzz;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Onnx;

namespace SimdRnn.Fuzz;

/// <summary>
/// The fuzzing entry points. Each input is tried both as a candidate safetensors file (parsed, every tensor read, a
/// network loaded from it and run on a tiny input) and as a candidate ONNX model (imported and, if it loads, run). <see cref="ModelFormatException"/> is the documented outcome for a malformed
/// file and is swallowed; any other exception escapes, and the fuzzer records the input as a crash.
/// </summary>
public static class Program
{
    /// <summary>Runs the harness.</summary>
    /// <param name="args">
    /// <c>afl</c> (default): AFL++ out-of-process mode, input on stdin or the file AFL names.
    /// <c>libfuzzer</c>: libFuzzer mode (with <c>libfuzzer-dotnet</c>).
    /// <c>run FILE…</c>: run the inputs once, without a fuzzer (to reproduce a crash).
    /// </param>
    /// <returns>0, or 1 when a <c>run</c> input fails with another exception.</returns>
    public static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "afl";
        switch (mode)
        {
            case "afl":
                Fuzzer.OutOfProcess.Run(Exercise);
                return 0;
            case "libfuzzer":
                Fuzzer.LibFuzzer.Run(span => Exercise(span.ToArray()));
                return 0;
            case "run":
                int failed = 0;
                foreach (string path in args.Skip(1))
                {
                    try
                    {
                        Exercise(File.ReadAllBytes(path));
                        Console.WriteLine($"{path}: ok");
                    }
#pragma warning disable CA1031 // report every crash and go on with the next input
                    catch (Exception e)
#pragma warning restore CA1031
                    {
                        Console.WriteLine($"{path}: CRASH {e}");
                        failed++;
                    }
                }
                return failed == 0 ? 0 : 1;
            default:
                Console.Error.WriteLine("usage: SimdRnn.Fuzz [afl | libfuzzer | run FILE…]");
                return 2;
        }
    }

    /// <summary>The AFL entry: reads the whole input stream.</summary>
    /// <param name="stream">The input.</param>
    public static void Exercise(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        Exercise(memory.ToArray());
    }

    /// <summary>Both formats on the same bytes; only <see cref="ModelFormatException"/> is expected.</summary>
    /// <param name="bytes">The candidate file.</param>
    public static void Exercise(byte[] bytes)
    {
        ExerciseSafetensors(bytes);
        ExerciseOnnx(bytes);
    }

    /// <summary>Import as ONNX and run what loads.</summary>
    /// <param name="bytes">The candidate model.</param>
    public static void ExerciseOnnx(byte[] bytes)
    {
        RecurrentNetwork network;
        try
        {
            network = OnnxImport.Load(bytes);
        }
        catch (ModelFormatException)
        {
            return;
        }
        Run(network);
    }

    /// <summary>Parse, read every tensor, load and run.</summary>
    /// <param name="bytes">The candidate file.</param>
    public static void ExerciseSafetensors(byte[] bytes)
    {
        SafetensorsFile file;
        try
        {
            file = SafetensorsFile.Parse(bytes);
        }
        catch (ModelFormatException)
        {
            return;
        }
        foreach (SafetensorsTensorInfo t in file.Tensors)
        {
            _ = file.GetBytes(t.Name);
            try
            {
                _ = file.ReadFloat32(t.Name);
            }
            catch (ModelFormatException) when (t.DType is not (SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F64))
            {
                // Integer and boolean tensors do not convert; that is documented.
            }
        }
        RecurrentNetwork network;
        try
        {
            network = PyTorchModel.Load(file);
        }
        catch (ModelFormatException)
        {
            return;
        }
        Run(network);
    }

    private static void Run(RecurrentNetwork network)
    {
        RecurrentSpec spec = network.Spec;
        var x = new float[2 * spec.InputSize];
        var y = new float[2 * spec.OutputSize];
        using RecurrentSession session = network.CreateSession();
        session.Run(x, batch: 1, y);
    }
}
