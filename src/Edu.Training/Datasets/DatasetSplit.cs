using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Serialization;

namespace Edu.Training.Datasets;

/// <summary>
/// The train/validation split by case, reproducible for a seed, written to <c>RUN/splits.json</c> and reused on resume.
/// </summary>
public sealed record DatasetSplit(
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("train")] IReadOnlyList<string> Train,
    [property: JsonPropertyName("validation")] IReadOnlyList<string> Validation)
{
    private static JsonSerializerOptions Json => EduJson.Indented;

    /// <summary>
    /// Shuffles the case ids (sorted first, so the order on disk does not matter) with <paramref name="seed"/> and
    /// holds out round(fraction · n) cases, at least one, keeping at least one for training.
    /// </summary>
    public static DatasetSplit Create(IEnumerable<string> caseIds, double validationFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(caseIds);
        var ids = caseIds.Order(StringComparer.Ordinal).ToArray();
        if (ids.Length < 2) throw new InvalidInputException("dataset", $"{ids.Length} training case(s): at least 2 are needed to hold one out for validation");
        new Random(seed).Shuffle(ids);
        int val = Math.Clamp((int)Math.Round(ids.Length * validationFraction), 1, ids.Length - 1);
        return new DatasetSplit(seed, ids[val..].Order(StringComparer.Ordinal).ToArray(), ids[..val].Order(StringComparer.Ordinal).ToArray());
    }

    /// <summary>Writes the split as JSON.</summary>
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>Reads a split written by <see cref="Save"/>.</summary>
    public static DatasetSplit Load(string path)
    {
        try
        {
            var s = JsonSerializer.Deserialize<DatasetSplit>(File.ReadAllText(path), Json);
            if (s is null || s.Train is null || s.Validation is null || s.Train.Count == 0 || s.Validation.Count == 0)
                throw new JsonException("train and validation lists are required");
            return s;
        }
        catch (JsonException e) { throw new InvalidInputException(path, $"not a valid split file: {e.Message}", e); }
    }
}
