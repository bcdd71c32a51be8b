using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Preprocessing;
using Edu.Models.Checkpoints;

namespace Edu.Inference;

/// <summary>
/// What a model package records about its inputs, in <c>model.json</c>'s <c>preprocessing</c> field:
/// <code>"preprocessing": { "pipeline": "clip(min=-1000, max=400); zscore", "patch_size": [128, 128, 64] }</code>
/// <c>pipeline</c> is <see cref="PreprocessingPipeline"/>'s text form; <c>patch_size</c> is the training patch in
/// voxels of the preprocessed image, ordered [x, y] or [x, y, z] (optional). Also read: a bare JSON string (the
/// pipeline) and <c>"steps": ["clip(min=0, max=1)", "zscore"]</c>. A missing field means no preprocessing.
/// </summary>
/// <param name="Pipeline">The steps the model's training data went through.</param>
/// <param name="PatchSize">The training patch, [x, y] or [x, y, z], or null.</param>
public sealed record PackagePreprocessing(PreprocessingPipeline Pipeline, IReadOnlyList<int>? PatchSize = null)
{
    /// <summary>The JSON value to store as <see cref="ModelManifest.Preprocessing"/>.</summary>
    public JsonElement ToJson()
    {
        var o = new Dictionary<string, object> { ["pipeline"] = Pipeline.ToString() };
        if (PatchSize is not null) o["patch_size"] = PatchSize.ToArray();
        return JsonSerializer.SerializeToElement(o);
    }

    /// <summary>Reads the manifest's field; a malformed one is an <see cref="InvalidInputException"/> naming <paramref name="source"/>.</summary>
    public static PackagePreprocessing FromManifest(ModelManifest manifest, string source = ModelPackage.ManifestFile)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Preprocessing is not { } e || e.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            return new PackagePreprocessing(PreprocessingPipeline.Empty);
        if (e.ValueKind == JsonValueKind.String)
            return new PackagePreprocessing(ParsePipeline(e.GetString()!, source));
        if (e.ValueKind != JsonValueKind.Object)
            throw new InvalidInputException(source, $"'preprocessing' must be an object {{\"pipeline\": \"...\", \"patch_size\": [...]}}, not {e.ValueKind}");
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
        if (e.TryGetProperty("patch_size", out var ps) && ps.ValueKind != JsonValueKind.Null)
        {
            if (ps.ValueKind != JsonValueKind.Array || ps.GetArrayLength() is < 1 or > 3
                || ps.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n) || n < 1 || n > 4096))
                throw new InvalidInputException(source, "'preprocessing.patch_size' must be 1 to 3 integers between 1 and 4096, ordered [x, y(, z)]");
            patch = ps.EnumerateArray().Select(v => v.GetInt32()).ToArray();
        }
        return new PackagePreprocessing(pipeline, patch);
    }

    private static PreprocessingPipeline ParsePipeline(string text, string source)
    {
        try { return PreprocessingPipeline.Parse(text); }
        catch (InvalidInputException ex) { throw new InvalidInputException(source, $"'preprocessing' pipeline is not valid: {ex.Message}", ex); }
    }
}
