using System.Text.Json.Serialization;

namespace Edu.Training.Evaluation;

/// <summary>What <c>edu evaluate --json</c> prints: per-case metrics and their means.</summary>
/// <param name="Model">The model package evaluated.</param>
/// <param name="Dataset">The dataset folder.</param>
/// <param name="Source"><c>test</c> (imagesTs/labelsTs) or <c>validation</c> (the run's validation split).</param>
/// <param name="Dice">Mean case Dice.</param>
/// <param name="IoU">Mean case IoU.</param>
/// <param name="Hd95">Mean case HD95 in mm over the cases where it is defined (null if none).</param>
/// <param name="Hd95Undefined">Label instances whose HD95 is undefined (exactly one of truth and prediction empty).</param>
/// <param name="PerLabelDice">Mean Dice per label name.</param>
/// <param name="Cases">Every case.</param>
public sealed record EvaluationReport(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("dataset")] string Dataset,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("dice")] double Dice,
    [property: JsonPropertyName("iou")] double IoU,
    [property: JsonPropertyName("hd95")] double? Hd95,
    [property: JsonPropertyName("hd95_undefined")] int Hd95Undefined,
    [property: JsonPropertyName("per_label_dice")] IReadOnlyDictionary<string, double> PerLabelDice,
    [property: JsonPropertyName("cases")] IReadOnlyList<CaseEvaluation> Cases);
