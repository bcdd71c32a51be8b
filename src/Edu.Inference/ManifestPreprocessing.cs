using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Preprocessing;
using Edu.Abstractions.Serialization;
using Edu.Models.Checkpoints;

namespace Edu.Inference;

/// <summary>
/// What a model package records about its inputs in <c>model.json</c>'s <c>preprocessing</c> field, as the trainer
/// (Edu.Training) writes it:
/// <code>"preprocessing": { "pipeline": "clip(min=-1000, max=400); zscore", "patch": [64, 128, 128], "channel_names": ["CT"], ... }</code>
/// <c>pipeline</c> is <see cref="PreprocessingPipeline"/>'s text form; <c>patch</c> is the training patch in tensor order,
/// [Y, X] (2-D) or [Z, Y, X] (3-D). Also read: <c>"patch_size": [x, y(, z)]</c>, a bare JSON string (the pipeline), and
/// <c>"steps": ["clip(min=0, max=1)", "zscore"]</c>. Other fields are ignored; a missing field means no preprocessing.
/// </summary>
/// <param name="Pipeline">The steps the model's training data went through.</param>
/// <param name="PatchSize">The training patch ordered [x, y] or [x, y, z] (the reverse of tensor order), or null.</param>
/// <param name="ChannelNames">Names of the input channels in order (e.g. T1, T1c, T2, FLAIR), or null.</param>
public sealed record ManifestPreprocessing(PreprocessingPipeline Pipeline, IReadOnlyList<int>? PatchSize = null,
    IReadOnlyList<string>? ChannelNames = null)
{
    /// <summary>The JSON value to store as <see cref="ModelManifest.Preprocessing"/> (<c>patch</c> in tensor order, as the trainer writes).</summary>
    public JsonElement ToJson()
    {
        var o = new Dictionary<string, object> { ["pipeline"] = Pipeline.ToString() };
        if (PatchSize is not null) o["patch"] = PatchSize.Reverse().ToArray();
        if (ChannelNames is not null) o["channel_names"] = ChannelNames.ToArray();
        return JsonSerializer.SerializeToElement(o, EduJson.Compact);
    }

    /// <summary>Reads the manifest's field; a malformed one is an <see cref="InvalidInputException"/> naming <paramref name="source"/>.</summary>
    public static ManifestPreprocessing FromManifest(ModelManifest manifest, string source = ModelPackage.ManifestFile)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Preprocessing is not { } e || e.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            return new ManifestPreprocessing(PreprocessingPipeline.Empty);
        if (e.ValueKind == JsonValueKind.String)
            return new ManifestPreprocessing(ParsePipeline(e.GetString()!, source));
        if (e.ValueKind != JsonValueKind.Object)
            throw new InvalidInputException(source, $"'preprocessing' must be an object {{\"pipeline\": \"...\", \"patch\": [...]}}, not {e.ValueKind}");
        var pipeline = PreprocessingPipeline.Empty;
        if (e.TryGetProperty("pipeline", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            if (p.ValueKind != JsonValueKind.String)
                throw new InvalidInputException(source, "'preprocessing.pipeline' must be a string such as \"clip(min=-1000, max=400); zscore\"");
            pipeline = ParsePipeline(p.GetString()!, source);
        }
        else if (e.TryGetProperty("steps", out var s) && s.ValueKind == JsonValueKind.Array)
        {
            if (s.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
                throw new InvalidInputException(source, "'preprocessing.steps' must be an array of step strings such as \"zscore\"");
            pipeline = ParsePipeline(string.Join("; ", s.EnumerateArray().Select(x => x.GetString())), source);
        }
        int[]? patch = null;
        if (e.TryGetProperty("patch", out var tensorOrder) && tensorOrder.ValueKind != JsonValueKind.Null)
            patch = [.. ReadPatch(tensorOrder, "patch", "[(z,) y, x]", source).Reverse()];
        else if (e.TryGetProperty("patch_size", out var xyz) && xyz.ValueKind != JsonValueKind.Null)
            patch = ReadPatch(xyz, "patch_size", "[x, y(, z)]", source);
        string[]? names = null;
        if (e.TryGetProperty("channel_names", out var cn) && cn.ValueKind == JsonValueKind.Array && cn.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String))
            names = [.. cn.EnumerateArray().Select(x => x.GetString()!)];
        return new ManifestPreprocessing(pipeline, patch, names);
    }

    private static int[] ReadPatch(JsonElement e, string key, string order, string source)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() is < 1 or > 3
            || e.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n) || n < 1 || n > 4096))
            throw new InvalidInputException(source, $"'preprocessing.{key}' must be 1 to 3 integers between 1 and 4096, ordered {order}");
        return [.. e.EnumerateArray().Select(v => v.GetInt32())];
    }

    private static PreprocessingPipeline ParsePipeline(string text, string source)
    {
        try { return PreprocessingPipeline.Parse(text); }
        catch (InvalidInputException ex) { throw new InvalidInputException(source, $"'preprocessing' pipeline is not valid: {ex.Message}", ex); }
    }
}
