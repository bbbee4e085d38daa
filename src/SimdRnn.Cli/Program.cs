using System.CommandLine;
using SimdRnn.Cli;

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
    if (error is not null)
    {
        Console.Error.WriteLine($"simdrnn demo: {error}");
        return 2;
    }
    Demo.Run(settings, Console.Out);
    return 0;
});

var root = new RootCommand("SimdRnn: small recurrent networks with SIMD kernels.") { demo };
return root.Parse(args).Invoke();
