using System.Globalization;
using System.Text.Json;

namespace Edu.Dicom.Web;

/// <summary>
/// One dataset in the DICOM JSON model (PS3.18 F.2), as QIDO-RS and STOW-RS answer: attributes keyed by the tag's
/// eight hex digits, each with its VR and a <c>Value</c> array.
/// </summary>
public sealed class DicomJsonDataset
{
    private readonly JsonElement _element;

    /// <summary>Wraps a parsed JSON object.</summary>
    public DicomJsonDataset(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object) throw new FormatException($"a DICOM JSON dataset is an object, not {element.ValueKind}");
        _element = element.Clone();
    }

    /// <summary>The first value of <paramref name="tag"/> as text (a PN's Alphabetic form), or null when absent or empty.</summary>
    public string? GetString(uint tag)
    {
        if (!TryValues(tag, out var values) || values.GetArrayLength() == 0) return null;
        var first = values[0];
        return first.ValueKind switch
        {
            JsonValueKind.String => first.GetString(),
            JsonValueKind.Number => first.GetRawText(),
            JsonValueKind.Object when first.TryGetProperty("Alphabetic", out var name) => name.GetString(),
            _ => null,
        };
    }

    /// <summary>The first value of <paramref name="tag"/> as an integer, or null.</summary>
    public int? GetInt(uint tag) =>
        int.TryParse(GetString(tag), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;

    /// <summary>The items of the sequence <paramref name="tag"/>; empty when absent.</summary>
    public IReadOnlyList<DicomJsonDataset> GetSequence(uint tag) =>
        TryValues(tag, out var values) ? values.EnumerateArray().Select(v => new DicomJsonDataset(v)).ToList() : [];

    /// <summary>Whether the dataset has <paramref name="tag"/> at all (with or without a value).</summary>
    public bool Contains(uint tag) => _element.TryGetProperty(Key(tag), out _);

    /// <summary>Parses a JSON array of datasets (a QIDO-RS answer; an empty body is no match).</summary>
    public static IReadOnlyList<DicomJsonDataset> ParseArray(string json)
    {
        if (string.IsNullOrWhiteSpace(json)) return [];
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
            throw new FormatException($"a DICOM JSON answer is an array of datasets, not {document.RootElement.ValueKind}");
        return document.RootElement.EnumerateArray().Select(e => new DicomJsonDataset(e)).ToList();
    }

    private bool TryValues(uint tag, out JsonElement values)
    {
        values = default;
        return _element.TryGetProperty(Key(tag), out var attribute) && attribute.ValueKind == JsonValueKind.Object
            && attribute.TryGetProperty("Value", out values) && values.ValueKind == JsonValueKind.Array;
    }

    private static string Key(uint tag) => tag.ToString("X8", CultureInfo.InvariantCulture);
}
