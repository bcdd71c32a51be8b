using System.Text.Json.Serialization;

namespace Edu.Training.Metrics;

/// <summary>
/// Overlap and surface distance of one label in one case. Empty cases: both masks empty → Dice 1, IoU 1, HD95 0;
/// exactly one empty → Dice 0, IoU 0, HD95 null (undefined: there is no surface to measure to; JSON <c>null</c>).
/// </summary>
/// <param name="Label">Label value.</param>
/// <param name="Dice">2|A∩B| / (|A| + |B|).</param>
/// <param name="IoU">|A∩B| / |A∪B|.</param>
/// <param name="Hd95">95th percentile of the symmetric surface distances in mm, or null when undefined.</param>
/// <param name="TruthVoxels">Voxels of the label in the ground truth.</param>
/// <param name="PredictedVoxels">Voxels of the label in the prediction.</param>
public sealed record LabelMetrics(
    [property: JsonPropertyName("label")] int Label,
    [property: JsonPropertyName("dice")] double Dice,
    [property: JsonPropertyName("iou")] double IoU,
    [property: JsonPropertyName("hd95")] double? Hd95,
    [property: JsonPropertyName("truth_voxels")] long TruthVoxels,
    [property: JsonPropertyName("predicted_voxels")] long PredictedVoxels);
