using System.Globalization;
using Spectre.Console;

namespace SimdRnn.Cli;

/// <summary>Shows training progress: a live bar with the current loss on a terminal, plain lines when redirected.</summary>
public static class TrainProgress
{
    /// <summary>Runs <see cref="TrainModel.Run"/> with progress on the console.</summary>
    /// <param name="settings">The training settings.</param>
    /// <returns>The result.</returns>
    public static TrainResult Run(TrainSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            int every = Math.Max(1, settings.Epochs / 10);
            return TrainModel.Run(settings, (epoch, report) =>
            {
                if (epoch % every == 0 || epoch == settings.Epochs)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch} loss {report.Loss:0.000000e+00} mse {report.MeanSquaredError:0.000e+00}{(report.Updated ? "" : " (non-finite: update skipped)")}"));
            });
        }

        TrainResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: Math.Max(1, settings.Epochs));
                result = TrainModel.Run(settings, (epoch, report) =>
                {
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {epoch} loss {report.Loss:0.0000e+00}");
                    task.Increment(1);
                });
                task.Value = task.MaxValue;
            });
        return result!;
    }
}
