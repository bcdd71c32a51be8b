using System.Text.Json.Serialization;

namespace Edu.Models.Checkpoints;

/// <summary>A coded concept in model.json, as DICOM codes it: code value, coding scheme (SCT, DCM, …) and meaning.</summary>
/// <param name="Value">Code value, e.g. <c>39607008</c>.</param>
/// <param name="Scheme">Coding scheme designator, e.g. <c>SCT</c>.</param>
/// <param name="Meaning">Code meaning, e.g. <c>Lung</c>.</param>
public sealed record CodedConcept(
    [property: JsonPropertyName("value")] string Value,
    [property: JsonPropertyName("scheme")] string Scheme,
    [property: JsonPropertyName("meaning")] string Meaning);
