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
            plot.Axes.Left.TickGenerator = DecadeTicks(values.Min(), values.Max());
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

    /// <summary>
    /// Ticks of a log10 axis: a labeled major tick at every decade 10^n in range (labels such as 100, 1, 0.01, 1e-5),
    /// and unlabeled minor ticks at k·10^n for k = 2..9. (An automatic generator on log10 values puts labels at
    /// fractional positions, which formatted as decades repeat: 1e2, 1e2, 1e2, 1e1, ….)
    /// </summary>
    /// <param name="low">The smallest log10 value plotted.</param>
    /// <param name="high">The largest log10 value plotted.</param>
    /// <returns>The tick generator.</returns>
    internal static ScottPlot.TickGenerators.NumericManual DecadeTicks(double low, double high)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        int first = (int)Math.Floor(low), last = (int)Math.Ceiling(high);
        for (int n = first; n <= last; n++)
        {
            ticks.AddMajor(n, DecadeLabel(n));
            if (n == last) break;
            for (int k = 2; k <= 9; k++) ticks.AddMinor(n + Math.Log10(k));
        }
        return ticks;
    }

    /// <summary>10^n written plainly from 0.001 to 1000 and as 1e{n} beyond.</summary>
    internal static string DecadeLabel(int n) =>
        n is >= -3 and <= 3 ? Math.Pow(10, n).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) : $"1e{n}";
}
