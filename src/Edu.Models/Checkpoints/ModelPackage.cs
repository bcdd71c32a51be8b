using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Serialization;
using Edu.Models.Blocks;
using Edu.Models.Catalogue;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Checkpoints;

/// <summary>
/// A model package: a folder with <c>model.json</c> (<see cref="ModelManifest"/>) and <c>weights.safetensors</c>.
/// Saving never overwrites an existing package; loading checks architecture and every tensor shape.
/// </summary>
public static class ModelPackage
{
    public const string ManifestFile = "model.json";
    public const string WeightsFile = "weights.safetensors";

    /// <summary>Writes a new package folder; an existing non-empty folder is refused (nothing the user has is overwritten).</summary>
    public static void Save(string directory, ModelManifest manifest, Module model)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            throw new InvalidInputException(directory, "the package folder exists and is not empty; choose a new folder or version");
        Directory.CreateDirectory(directory);
        var m = manifest with { Hyperparameters = manifest.Hyperparameters.Resolved(), Parameters = Layers.CountParameters(model) };
        Weights.SaveSafetensors(model, Path.Combine(directory, m.Weights),
            new Dictionary<string, string> { ["format"] = "pt", ["architecture"] = m.Architecture });
        File.WriteAllText(Path.Combine(directory, ManifestFile), JsonSerializer.Serialize(m, TrainingCheckpoint.JsonOptions));
    }

    /// <summary>Reads and checks <c>model.json</c>.</summary>
    public static ModelManifest ReadManifest(string directory)
    {
        string path = Path.Combine(directory, ManifestFile);
        if (!File.Exists(path)) throw new InvalidInputException(directory, $"not a model package: {ManifestFile} is missing");
        ModelManifest? m;
        try { m = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), EduJson.Indented); }
        catch (JsonException e) { throw new InvalidInputException(path, $"not a valid model manifest: {e.Message}", e); }
        if (m is null) throw new InvalidInputException(path, "empty model manifest");
        if (m.Format != 1) throw new InvalidInputException(path, $"package format {m.Format} is not supported (this build reads format 1)");
        if (m.Weights.Contains('/') || m.Weights.Contains('\\') || m.Weights.Contains(".."))
            throw new InvalidInputException(path, $"weights file name '{m.Weights}' must be a plain file name inside the package");
        return m;
    }

    /// <summary>
    /// Builds the package's architecture from <paramref name="catalogue"/> and loads its weights (model in
    /// eval mode, on the CPU). Unknown architectures and mismatching keys or shapes are an <see cref="InvalidInputException"/>.
    /// </summary>
    public static (ModelManifest Manifest, Module<Tensor, Tensor> Model) Load(string directory, ModelCatalogue catalogue)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        var m = ReadManifest(directory);
        var definition = catalogue.Find(m.Architecture)
            ?? throw new InvalidInputException(Path.Combine(directory, ManifestFile),
                $"architecture '{m.Architecture}' is not in the model catalogue (known: {string.Join(", ", catalogue.Definitions.Select(d => d.Name))})");
        var model = catalogue.Create(definition.Name, m.Hyperparameters);
        try
        {
            Weights.LoadSafetensors(model, Path.Combine(directory, m.Weights));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return (m, model);
    }
}
