using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Models.Catalogue;

namespace Edu.Models.Checkpoints;

/// <summary>
/// <c>model.json</c> of a model package. <see cref="Preprocessing"/> is an opaque JSON object owned by the
/// preprocessing pipeline; <see cref="Metrics"/> are final validation metrics (e.g. "dice").
/// </summary>
public sealed record ModelManifest
{
    /// <summary>Package format version, bumped on incompatible changes.</summary>
    [JsonPropertyName("format")] public int Format { get; init; } = 1;
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("version")] public required string Version { get; init; }
    /// <summary>Catalogue name of the architecture, e.g. <c>edu</c>.</summary>
    [JsonPropertyName("architecture")] public required string Architecture { get; init; }
    [JsonPropertyName("hyperparameters")] public required ModelHyperparameters Hyperparameters { get; init; }
    [JsonPropertyName("modality")] public string? Modality { get; init; }
    /// <summary>Label value → name, e.g. {"0": "background", "1": "lesion"}.</summary>
    [JsonPropertyName("labels")] public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>
    /// Optional: label value → its coded category and type, e.g. {"1": {"category": {"value": "91723000", "scheme": "SCT",
    /// "meaning": "Anatomical Structure"}, "type": {"value": "39607008", "scheme": "SCT", "meaning": "Lung"}}}; a DICOM SEG
    /// codes each segment with it (labels without an entry: SNOMED CT "Tissue").
    /// </summary>
    [JsonPropertyName("label_codes")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, LabelCoding>? LabelCodes { get; init; }
    [JsonPropertyName("preprocessing")] public JsonElement? Preprocessing { get; init; }
    [JsonPropertyName("training_data_hash")] public string? TrainingDataHash { get; init; }
    /// <summary>The precision the net was trained in (<c>fp32</c>, <c>bf16</c>, <c>fp16</c>); the weights are float32 in every case.</summary>
    [JsonPropertyName("training_precision")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TrainingPrecision { get; init; }
    [JsonPropertyName("metrics")] public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    [JsonPropertyName("weights")] public string Weights { get; init; } = ModelPackage.WeightsFile;
    [JsonPropertyName("parameters")] public long? Parameters { get; init; }
}
