using System.Text.Json.Serialization;

namespace Edu.Training;

/// <summary>
/// The trainer's own state, saved in every checkpoint folder as <c>trainer.json</c> beside the weights and the
/// optimizer state. Random state needs no saving: every random choice derives from (seed, epoch, step, sample).
/// </summary>
public sealed record TrainerState
{
    /// <summary>Epochs completed.</summary>
    [JsonPropertyName("epoch")] public int Epoch { get; init; }
    /// <summary>Optimizer steps taken (drives the learning-rate schedule).</summary>
    [JsonPropertyName("global_step")] public long GlobalStep { get; init; }
    /// <summary>
    /// Steps already taken of epoch <see cref="Epoch"/> + 1 when the run was interrupted inside it (a checkpoint written on
    /// cancellation, e.g. a worker's graceful shutdown); 0 at an epoch boundary.
    /// </summary>
    [JsonPropertyName("step_in_epoch")] public int StepInEpoch { get; init; }
    /// <summary>The sum of those steps' losses (the epoch's mean training loss needs it).</summary>
    [JsonPropertyName("epoch_loss_sum")] public double EpochLossSum { get; init; }
    /// <summary>Best validation Dice so far (−1 before any).</summary>
    [JsonPropertyName("best_dice")] public double BestDice { get; init; } = -1;
    /// <summary>Epoch of <see cref="BestDice"/>.</summary>
    [JsonPropertyName("best_epoch")] public int BestEpoch { get; init; }
    /// <summary>Epochs since the best one (early stopping).</summary>
    [JsonPropertyName("epochs_since_best")] public int EpochsSinceBest { get; init; }
    /// <summary>Whether early stopping ended the run.</summary>
    [JsonPropertyName("stopped_early")] public bool StoppedEarly { get; init; }
    /// <summary>fp16 only: the loss scale when the checkpoint was written (a resumed run continues with it).</summary>
    [JsonPropertyName("loss_scale")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? LossScale { get; init; }
    /// <summary>fp16 only: finite steps in a row since the loss scale last changed.</summary>
    [JsonPropertyName("loss_scale_good_steps")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? LossScaleGoodSteps { get; init; }
    /// <summary>Every completed epoch (log.jsonl is rewritten from this on resume).</summary>
    [JsonPropertyName("history")] public IReadOnlyList<EpochSummary> History { get; init; } = [];
}
