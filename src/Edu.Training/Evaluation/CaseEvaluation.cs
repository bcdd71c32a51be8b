using System.Text.Json.Serialization;
using Edu.Training.Metrics;

namespace Edu.Training.Evaluation;

/// <summary>Metrics of one case, per foreground label, and their means over the labels (HD95: over the labels where it is defined).</summary>
/// <param name="Case">Case id.</param>
/// <param name="Dice">Mean Dice over the foreground labels.</param>
/// <param name="IoU">Mean IoU over the foreground labels.</param>
/// <param name="Hd95">Mean HD95 in mm over the labels where it is defined; null when it is defined for none.</param>
/// <param name="Labels">Per-label metrics.</param>
public sealed record CaseEvaluation(
    [property: JsonPropertyName("case")] string Case,
    [property: JsonPropertyName("dice")] double Dice,
    [property: JsonPropertyName("iou")] double IoU,
    [property: JsonPropertyName("hd95")] double? Hd95,
    [property: JsonPropertyName("labels")] IReadOnlyList<LabelMetrics> Labels);
