using Edu.Models.Checkpoints;

namespace Edu.Worker.Models;

/// <summary>One model package on disk: its folder and manifest.</summary>
/// <param name="Directory">The package folder.</param>
/// <param name="Manifest">Its <c>model.json</c>.</param>
/// <param name="ManifestJson">The <c>model.json</c> text, verbatim.</param>
public sealed record ModelEntry(string Directory, ModelManifest Manifest, string ManifestJson)
{
    /// <summary>The package name.</summary>
    public string Name => Manifest.Name;

    /// <summary>The package version.</summary>
    public string Version => Manifest.Version;
}
