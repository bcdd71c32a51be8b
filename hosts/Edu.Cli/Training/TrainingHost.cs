using Edu.Cli.Hosting;
using Edu.Imaging;
using Edu.Training;
using Spectre.Console;

namespace Edu.Cli.Training;

/// <summary>
/// Runs a <see cref="Trainer"/> for the CLI with the plugins' readers, steps and modality pipelines, showing
/// progress as a live Spectre.Console bar (epoch, step, loss, Dice, ETA) when stdout is a terminal and as plain
/// lines (one per epoch) when it is redirected.
/// </summary>
public static class TrainingHost
{
    /// <summary>A trainer wired to the plugin catalogue.</summary>
    public static Trainer CreateTrainer() => new(
        catalogue: CliPlugins.Models,
        customSteps: CliPlugins.Catalog.PreprocessingSteps,
        modalityPipelines: id => CliPlugins.Catalog.FindModality(id)?.DefaultPipeline,
        readers: ImageReaderRegistry.CreateDefault(CliPlugins.Catalog.Readers));

    /// <summary>Runs training with progress on the console.</summary>
    public static TrainingResult Run(Trainer trainer, TrainingOptions options, string runDirectory, CancellationToken cancellationToken, bool quiet = false)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        if (quiet) return trainer.Run(options, runDirectory, null, cancellationToken);
        if (Console.IsOutputRedirected)
            return trainer.Run(options, runDirectory, new LineProgress(), cancellationToken);
        TrainingResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("preparing", maxValue: 1);
                result = trainer.Run(options, runDirectory, new BarProgress(task), cancellationToken);
                task.Value = task.MaxValue;
            });
        return result!;
    }

    private sealed class LineProgress : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value)
        {
            if (value.Kind is TrainingEventKind.Step) return;
            if (value.Kind is TrainingEventKind.CheckpointWritten && !value.Message.StartsWith("best", StringComparison.Ordinal)) return;
            Console.Out.WriteLine(value.Message);
        }
    }

    private sealed class BarProgress(ProgressTask task) : IProgress<TrainingEvent>
    {
        private double? _dice;

        public void Report(TrainingEvent value)
        {
            if (value.Kind is TrainingEventKind.EpochEnd) _dice = value.ValidationDice;
            if (value.Kind is TrainingEventKind.Started && value.StepsPerEpoch > 0)
            {
                task.MaxValue = (double)value.Epochs * value.StepsPerEpoch;
                task.Value = (double)value.Epoch * value.StepsPerEpoch;
            }
            if (value.Kind is TrainingEventKind.Step)
            {
                task.Value = (double)(value.Epoch - 1) * value.StepsPerEpoch + value.Step;
                string loss = value.Loss is { } l ? $" loss {l:F4}" : "";
                string dice = _dice is { } d ? $" Dice {d:F3}" : "";
                task.Description = Markup.Escape($"epoch {value.Epoch}/{value.Epochs} step {value.Step}/{value.StepsPerEpoch}{loss}{dice}");
            }
            if (value.Kind is TrainingEventKind.EpochEnd or TrainingEventKind.EarlyStopped or TrainingEventKind.Completed or TrainingEventKind.Started)
                AnsiConsole.MarkupLine(Markup.Escape(value.Message));
        }
    }
}
