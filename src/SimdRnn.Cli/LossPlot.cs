using ScottPlot;

namespace SimdRnn.Cli;

/// <summary>Draws a loss curve as a PNG (ScottPlot).</summary>
public static class LossPlot
{
    /// <summary>Writes the loss of every epoch as a line chart, log-scaled when the loss spans decades.</summary>
    /// <param name="path">The PNG file.</param>
    /// <param name="losses">The losses, epoch 1 first.</param>
    /// <param name="title">The chart's title.</param>
    public static void Save(string path, IReadOnlyList<double> losses, string title)
    {
        ArgumentNullException.ThrowIfNull(losses);
        var plot = new Plot();
        double[] epochs = Enumerable.Range(1, losses.Count).Select(e => (double)e).ToArray();
        double[] values = losses.ToArray();
        bool logScale = values.All(v => v > 0 && double.IsFinite(v)) && values.Length > 1 && values.Max() / values.Min() > 100;
        if (logScale)
        {
            values = values.Select(Math.Log10).ToArray();
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => $"1e{v:0}" };
            plot.YLabel("loss (log scale)");
        }
        else
        {
            plot.YLabel("loss");
        }
        var line = plot.Add.ScatterLine(epochs, values);
        line.LineWidth = 2;
        plot.XLabel("epoch");
        plot.Title(title);
        plot.SavePng(path, 800, 450);
    }
}
