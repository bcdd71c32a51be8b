using Edu.Abstractions.Errors;
using Edu.Models.Checkpoints;

namespace Edu.Inference;

/// <summary>
/// Finds the model package a user names: a package folder (holding <c>model.json</c>) or a training run folder,
/// whose package the trainer writes to <c>RUN/model/</c>.
/// </summary>
public static class ModelPackageLocator
{
    /// <summary>The sub-folder of a training run that holds its model package.</summary>
    public const string RunPackageFolder = "model";

    /// <summary>The package folder for <paramref name="path"/>; anything else is an <see cref="InvalidInputException"/>.</summary>
    public static string Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path) && Path.GetFileName(path) == ModelPackage.ManifestFile)
            return Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(path))
            throw new InvalidInputException(path, "no such model package or training run folder");
        if (File.Exists(Path.Combine(path, ModelPackage.ManifestFile)))
            return path;
        string inRun = Path.Combine(path, RunPackageFolder);
        if (File.Exists(Path.Combine(inRun, ModelPackage.ManifestFile)))
            return inRun;
        throw new InvalidInputException(path,
            $"not a model package ({ModelPackage.ManifestFile} is missing) nor a training run with a finished package in {RunPackageFolder}/{ModelPackage.ManifestFile}");
    }
}
