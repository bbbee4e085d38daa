using System.CommandLine;
using SimdRnn.Cli;
using SimdRnn.Interop;
using SimdRnn.Networks;

var root = new RootCommand("SimdRnn: small recurrent networks (RNN, GRU, LSTM) with SIMD kernels.")
{
    DemoCommand(),
    RunCommand(),
    TrainCommand(),
    InspectCommand(),
    BenchCommand(),
};
return root.Parse(args).Invoke();

static Command DemoCommand()
{
    var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 1000 };
    var lr = new Option<float>("--lr") { Description = "SGD learning rate.", DefaultValueFactory = _ => 0.1f };
    var clip = new Option<float>("--clip") { Description = "Element-wise gradient clip (0 = off).", DefaultValueFactory = _ => 5f };
    var hidden = new Option<int>("--hidden") { Description = "Hidden units.", DefaultValueFactory = _ => 25 };
    var seed = new Option<int>("--seed") { Description = "Seed of the N(0,1)·0.01 initial weights.", DefaultValueFactory = _ => 1 };
    var demo = new Command("demo", "Reproduce the seed document's run: train a 3-25-1 Elman RNN on its two-step data, then predict [1,1,1].")
    {
        epochs, lr, clip, hidden, seed,
    };
    demo.SetAction(parse =>
    {
        var settings = new DemoSettings
        {
            Epochs = parse.GetValue(epochs),
            LearningRate = parse.GetValue(lr),
            Clip = parse.GetValue(clip),
            Hidden = parse.GetValue(hidden),
            Seed = parse.GetValue(seed),
        };
        string? error = settings switch
        {
            { Epochs: < 0 } => "--epochs must be zero or positive.",
            { Hidden: < 1 } => "--hidden must be positive.",
            { Clip: < 0 or float.NaN or float.PositiveInfinity } => "--clip must be zero (off) or a positive number.",
            { LearningRate: float.NaN or float.PositiveInfinity or float.NegativeInfinity } => "--lr must be finite.",
            _ => null,
        };
        if (error is not null) return Fail("demo", error);
        Demo.Run(settings, Console.Out);
        return 0;
    });
    return demo;
}

static Command RunCommand()
{
    var model = new Option<string>("--model") { Description = "The model: a PyTorch state_dict of nn.RNN/GRU/LSTM (+ nn.Linear 'head.') as safetensors, or an .onnx file.", Required = true };
    var input = new Option<string>("--input") { Description = "Inputs: 'x' [T,B,I], optional 'h0' [L·D,B,H], 'c0', and 'lengths' (int64/int32 [B]; outputs past a length are zero).", Required = true };
    var output = new Option<string>("--output") { Description = "Outputs: 'y' [T,B,D·H], 'h_n', 'c_n' (LSTM), 'out' [T,B,O] (with a readout).", Required = true };
    var nonlinearity = new Option<string?>("--nonlinearity") { Description = "Elman activation, overriding the file's metadata." };
    nonlinearity.AcceptOnlyFromAmong("tanh", "relu");
    var head = new Option<string?>("--head") { Description = "Readout activation, overriding the file's metadata." };
    head.AcceptOnlyFromAmong("none", "sigmoid");
    var batchFirst = new Option<bool>("--batch-first") { Description = "x, y and out are [B,T,·]." };
    var weights = new Option<string?>("--weights") { Description = "Format of the recurrent weight matrices: fp32 (PyTorch-exact), bf16 (rounded to nearest bfloat16), int8 (per-row scale) or int8-int16 (int8 weights, inputs and states quantized to int16 per product); biases and readout stay fp32. Default: the file's (fp32, or bf16 for a saved bf16 network)." };
    weights.AcceptOnlyFromAmong([.. ModelFiles.WeightFormatNames]);
    var run = new Command("run", "Run a PyTorch recurrent model over the sequences in a safetensors file.")
    {
        model, input, output, nonlinearity, head, batchFirst, weights,
    };
    run.SetAction(parse =>
    {
        try
        {
            var (network, batch, steps) = RunModel.Run(new RunSettings
            {
                Model = parse.GetValue(model)!,
                Input = parse.GetValue(input)!,
                Output = parse.GetValue(output)!,
                Nonlinearity = parse.GetValue(nonlinearity) switch { "relu" => Nonlinearity.Relu, "tanh" => Nonlinearity.Tanh, _ => null },
                Head = parse.GetValue(head) switch { "sigmoid" => ReadoutActivation.Sigmoid, "none" => ReadoutActivation.None, _ => null },
                BatchFirst = parse.GetResult(batchFirst) is null ? null : parse.GetValue(batchFirst),
                Weights = parse.GetValue(weights) is { } chosen ? ModelFiles.ParseWeights(chosen) : null,
            });
            Console.WriteLine($"{network.Spec.Cell} {network.Spec.Layers}×{(network.Spec.Bidirectional ? "bi" : "uni")} H={network.Spec.HiddenSize}, {ModelFiles.WeightsName(network.WeightPrecision)} weights: {batch} sequence(s) × {steps} steps → {parse.GetValue(output)}");
            return 0;
        }
        catch (Exception e) when (e is ModelFormatException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            return Fail("run", e.Message);
        }
    });
    return run;
}

static Command TrainCommand()
{
    var model = new Option<string>("--model") { Description = "The initial model: a PyTorch state_dict as safetensors, or an .onnx file.", Required = true };
    var data = new Option<string>("--data") { Description = "Data: 'x' [T,B,I], 'target' [T,B,O], optional 'h0', 'c0', 'lengths' (int64/int32 [B]; the loss counts valid steps only).", Required = true };
    var output = new Option<string>("--output") { Description = "The trained model (PyTorch's names; saved atomically).", Required = true };
    var epochs = new Option<int>("--epochs") { Description = "Epochs (one forward, exact BPTT and update over all the data each).", DefaultValueFactory = _ => 1000 };
    var lr = new Option<float>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 0.1f };
    var clip = new Option<float>("--clip") { Description = "Element-wise gradient clip (0 = off).", DefaultValueFactory = _ => 5f };
    var loss = new Option<string>("--loss") { Description = "Loss on the output.", DefaultValueFactory = _ => "bce" };
    loss.AcceptOnlyFromAmong("bce", "mse");
    var reduction = new Option<string>("--reduction") { Description = "Over time steps, batch and outputs.", DefaultValueFactory = _ => "sum" };
    reduction.AcceptOnlyFromAmong("sum", "mean");
    var optimizer = new Option<string>("--optimizer") { Description = "Update rule.", DefaultValueFactory = _ => "sgd" };
    optimizer.AcceptOnlyFromAmong("sgd", "adam");
    var nonlinearity = new Option<string?>("--nonlinearity") { Description = "Elman activation, overriding the file's metadata." };
    nonlinearity.AcceptOnlyFromAmong("tanh", "relu");
    var head = new Option<string?>("--head") { Description = "Readout activation, overriding the file's metadata." };
    head.AcceptOnlyFromAmong("none", "sigmoid");
    var log = new Option<string?>("--log") { Description = "CSV file for the loss of every epoch." };
    var plotPath = new Option<string?>("--plot") { Description = "PNG file for the loss curve." };
    var train = new Command("train", "Train a PyTorch recurrent model by exact BPTT (defaults: the seed's SGD, lr 0.1, clip 5, BCE summed, 1000 epochs).")
    {
        model, data, output, epochs, lr, clip, loss, reduction, optimizer, nonlinearity, head, log, plotPath,
    };
    train.SetAction(parse =>
    {
        var settings = new TrainSettings
        {
            Model = parse.GetValue(model)!,
            Data = parse.GetValue(data)!,
            Output = parse.GetValue(output)!,
            Epochs = parse.GetValue(epochs),
            LearningRate = parse.GetValue(lr),
            Clip = parse.GetValue(clip),
            Loss = parse.GetValue(loss) == "mse" ? SimdRnn.Training.LossKind.SquaredError : SimdRnn.Training.LossKind.BinaryCrossEntropy,
            Reduction = parse.GetValue(reduction) == "mean" ? SimdRnn.Training.LossReduction.Mean : SimdRnn.Training.LossReduction.Sum,
            Optimizer = parse.GetValue(optimizer) == "adam" ? SimdRnn.Training.OptimizerKind.Adam : SimdRnn.Training.OptimizerKind.Sgd,
            Nonlinearity = parse.GetValue(nonlinearity) switch { "relu" => Nonlinearity.Relu, "tanh" => Nonlinearity.Tanh, _ => null },
            Head = parse.GetValue(head) switch { "sigmoid" => ReadoutActivation.Sigmoid, "none" => ReadoutActivation.None, _ => null },
            Log = parse.GetValue(log),
            Plot = parse.GetValue(plotPath),
        };
        if (settings.Clip < 0 || !float.IsFinite(settings.Clip)) return Fail("train", "--clip must be zero (off) or a positive number.");
        try
        {
            var result = TrainProgress.Run(settings);
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"trained {settings.Epochs} epochs; final loss {(result.Losses.Length > 0 ? result.Losses[^1] : double.NaN):0.000000e+00}; saved {settings.Output}"));
            if (result.SkippedUpdates > 0)
                Console.WriteLine($"warning: {result.SkippedUpdates} epoch(s) had a non-finite loss or gradient; their updates were skipped and the weights stayed finite");
            return 0;
        }
        catch (Exception e) when (e is ModelFormatException or ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return Fail("train", e.Message);
        }
    });
    return train;
}

static Command InspectCommand()
{
    var model = new Argument<string>("model") { Description = "A PyTorch state_dict as safetensors, or an .onnx file." };
    var inspect = new Command("inspect", "Describe a model: cell, layers, directions, sizes, parameters, bias form, readout, tensors.") { model };
    inspect.SetAction(parse =>
    {
        try
        {
            InspectModel.Run(parse.GetValue(model)!, Console.Out);
            return 0;
        }
        catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException)
        {
            return Fail("inspect", e.Message);
        }
    });
    return inspect;
}

static Command BenchCommand()
{
    var model = new Option<string>("--model") { Description = "The model: a PyTorch state_dict as safetensors, or an .onnx file.", Required = true };
    var batch = new Option<int>("--batch") { Description = "Streams stepped together / sequences per run.", DefaultValueFactory = _ => 1 };
    var steps = new Option<int>("--steps") { Description = "Streaming steps to time one by one.", DefaultValueFactory = _ => 20_000 };
    var seq = new Option<int>("--seq") { Description = "Sequence length for the throughput run.", DefaultValueFactory = _ => 100 };
    var json = new Option<bool>("--json") { Description = "Write one JSON object instead of text (with --weights all, an array of one object per format)." };
    var weights = new Option<string>("--weights") { Description = "Format of the recurrent weight matrices: fp32, bf16, int8, int8-int16, or all (each format side by side).", DefaultValueFactory = _ => "fp32" };
    weights.AcceptOnlyFromAmong([.. ModelFiles.WeightFormatNames, "all"]);
    var threads = new Option<int?>("--threads") { Description = "Most cores a step and a run use (a large model at B = 1 splits by hidden units); default: step 1, sequence all cores." };
    var bench = new Command("bench", "Time your model on this machine: streaming step latency (median, p99), sequence throughput, bytes allocated per step.")
    {
        model, batch, steps, seq, weights, json, threads,
    };
    bench.SetAction(parse =>
    {
        var settings = new BenchSettings { Model = parse.GetValue(model)!, Batch = parse.GetValue(batch), Steps = parse.GetValue(steps), SequenceLength = parse.GetValue(seq), Threads = parse.GetValue(threads) };
        try
        {
            string chosen = parse.GetValue(weights)!;
            // One format prints its figures; "all" prints the three side by side (text) or as an array (JSON).
            Action<Stream> writeJson;
            Action<TextWriter> writeText;
            if (chosen == "all")
            {
                var results = BenchModel.RunAll(settings, ModelFiles.WeightFormats);
                writeJson = stream => BenchModel.WriteJson(settings, results, stream);
                writeText = text => BenchModel.WriteText(settings, results, text);
            }
            else
            {
                settings = settings with { Weights = ModelFiles.ParseWeights(chosen) };
                var result = BenchModel.Run(settings);
                var measured = settings;
                writeJson = stream => BenchModel.WriteJson(measured, result, stream);
                writeText = text => BenchModel.WriteText(measured, result, text);
            }
            if (parse.GetValue(json))
            {
                using var stdout = Console.OpenStandardOutput();
                writeJson(stdout);
                Console.WriteLine();
            }
            else
            {
                writeText(Console.Out);
            }
            return 0;
        }
        catch (Exception e) when (e is ModelFormatException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            return Fail("bench", e.Message);
        }
    });
    return bench;
}

static int Fail(string command, string message)
{
    Console.Error.WriteLine($"simdrnn {command}: {message.ReplaceLineEndings(" ")}");
    return 1;
}
