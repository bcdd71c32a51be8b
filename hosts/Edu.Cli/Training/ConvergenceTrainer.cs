using System.Diagnostics;
using Edu.Cli.Hosting;
using Edu.Imaging;
using Edu.Training;
using Edu.Training.Data;
using static TorchSharp.torch;

namespace Edu.Cli.Training;

/// <summary>
/// A trainer variant for <c>edu bench converge</c>: times every training step (synchronised by reading the loss
/// back, so asynchronous devices are measured honestly) and notes when validation Dice first reaches the target.
/// </summary>
public sealed class ConvergenceTrainer : Trainer
{
    private readonly double _target;
    private readonly List<double> _stepMs = [];
    private Stopwatch? _clock;

    /// <summary>Creates the trainer for a Dice <paramref name="target"/>.</summary>
    public ConvergenceTrainer(double target)
        : base(catalogue: CliPlugins.Models, customSteps: CliPlugins.Catalog.PreprocessingSteps, modalityPipelines: id => CliPlugins.Catalog.FindModality(id)?.DefaultPipeline,
            readers: ImageReaderRegistry.CreateDefault(CliPlugins.Catalog.Readers)) => _target = target;

    /// <summary>First epoch whose validation Dice reached the target, or null.</summary>
    public int? EpochsToTarget { get; private set; }

    /// <summary>Training wall time (seconds, validation included) until the target was reached, or null.</summary>
    public double? SecondsToTarget { get; private set; }

    /// <summary>Median step time in ms after the first 3 (warm-up) steps.</summary>
    public double MedianStepMs
    {
        get
        {
            var s = _stepMs.Skip(Math.Min(3, Math.Max(0, _stepMs.Count - 1))).Order().ToList();
            return s.Count == 0 ? double.NaN : s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
        }
    }

    /// <summary>Parameters of the net trained.</summary>
    public long Parameters { get; private set; }

    /// <inheritdoc />
    protected override void OnTrainStart(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Parameters = Edu.Models.Blocks.Layers.CountParameters(context.Model);
        _clock = Stopwatch.StartNew();
    }

    /// <inheritdoc />
    protected override Tensor TrainStep(TrainingContext context, TrainingBatch batch)
    {
        var sw = Stopwatch.StartNew();
        var loss = base.TrainStep(context, batch);
        _ = loss.cpu().item<float>(); // synchronise for the timing
        _stepMs.Add(sw.Elapsed.TotalMilliseconds);
        return loss;
    }

    /// <inheritdoc />
    protected override void OnEpochEnd(TrainingContext context, EpochSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        if (EpochsToTarget is null && summary.ValidationDice >= _target)
        {
            EpochsToTarget = summary.Epoch;
            SecondsToTarget = _clock?.Elapsed.TotalSeconds;
        }
    }
}
