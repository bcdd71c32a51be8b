using System.Text.Json.Serialization;

namespace Edu.Models.Checkpoints;

/// <summary>What a label is, coded: a DICOM SEG writes it as the segment's property category and type.</summary>
/// <param name="Category">Segmented property category, e.g. SCT 91723000 "Anatomical Structure".</param>
/// <param name="Type">Segmented property type, e.g. SCT 39607008 "Lung".</param>
public sealed record LabelCoding(
    [property: JsonPropertyName("category")] CodedConcept Category,
    [property: JsonPropertyName("type")] CodedConcept Type);
