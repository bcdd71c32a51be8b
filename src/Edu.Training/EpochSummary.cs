using System.Text.Json.Serialization;

namespace Edu.Training;

/// <summary>One line of <c>RUN/log.jsonl</c>.</summary>
/// <param name="Epoch">Epoch, 1-based.</param>
/// <param name="TrainLoss">Mean training loss.</param>
/// <param name="ValidationDice">Mean validation Dice over validation cases and foreground labels.</param>
/// <param name="LearningRate">Learning rate at the epoch's last step.</param>
/// <param name="Seconds">Wall time of the epoch (training and validation).</param>
/// <param name="DataWaitFraction">Share of training-step time spent waiting for the loader.</param>
/// <param name="Precision">The steps' precision (fp32, bf16, fp16).</param>
/// <param name="SkippedSteps">fp16: steps the loss scaler skipped for non-finite gradients in this epoch (null otherwise).</param>
/// <param name="LossScale">fp16: the loss scale at the epoch's end (null otherwise).</param>
public sealed record EpochSummary(
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("train_loss")] double TrainLoss,
    [property: JsonPropertyName("val_dice")] double ValidationDice,
    [property: JsonPropertyName("lr")] double LearningRate,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("data_wait_fraction")] double DataWaitFraction,
    [property: JsonPropertyName("precision")] string Precision = "fp32",
    [property: JsonPropertyName("skipped_steps")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? SkippedSteps = null,
    [property: JsonPropertyName("loss_scale")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LossScale = null);
