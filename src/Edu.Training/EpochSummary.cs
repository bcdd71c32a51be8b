using System.Text.Json.Serialization;

namespace Edu.Training;

/// <summary>One line of <c>RUN/log.jsonl</c>.</summary>
/// <param name="Epoch">Epoch, 1-based.</param>
/// <param name="TrainLoss">Mean training loss.</param>
/// <param name="ValidationDice">Mean validation Dice over validation cases and foreground labels.</param>
/// <param name="LearningRate">Learning rate at the epoch's last step.</param>
/// <param name="Seconds">Wall time of the epoch (training and validation).</param>
/// <param name="DataWaitFraction">Share of training-step time spent waiting for the loader.</param>
public sealed record EpochSummary(
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("train_loss")] double TrainLoss,
    [property: JsonPropertyName("val_dice")] double ValidationDice,
    [property: JsonPropertyName("lr")] double LearningRate,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("data_wait_fraction")] double DataWaitFraction);
