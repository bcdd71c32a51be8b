namespace Edu.Training.Reporting;

/// <summary>Writes <c>curves.png</c>: training loss and validation Dice per epoch (ScottPlot).</summary>
public static class TrainingCurves
{
    /// <summary>Plots <paramref name="history"/> to <paramref name="path"/> (written to a temporary file, then moved into place).</summary>
    public static void Write(IReadOnlyList<EpochSummary> history, string path)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0) return;
        var plot = new ScottPlot.Plot();
        double[] epochs = history.Select(h => (double)h.Epoch).ToArray();
        var loss = plot.Add.Scatter(epochs, history.Select(h => h.TrainLoss).ToArray());
        loss.LegendText = "training loss";
        var dice = plot.Add.Scatter(epochs, history.Select(h => h.ValidationDice).ToArray());
        dice.LegendText = "validation Dice";
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Title("Training curves");
        plot.ShowLegend();
        string tmp = path + ".tmp.png";
        plot.SavePng(tmp, 800, 500);
        File.Move(tmp, path, overwrite: true);
    }
}
