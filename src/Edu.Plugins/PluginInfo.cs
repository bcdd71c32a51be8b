using Edu.Abstractions.Modalities;

namespace Edu.Plugins;

/// <summary>One plugin the host found, loaded or not, and why.</summary>
/// <param name="Name">The plugin's folder (and assembly) name.</param>
/// <param name="Version">The assembly's informational version, or "" when unreadable.</param>
/// <param name="Path">Full path of the plugin assembly.</param>
/// <param name="Status">Whether it loaded.</param>
/// <param name="Error">Why not, for users; null when loaded.</param>
/// <param name="Modalities">Modalities it registered (empty unless loaded).</param>
public sealed record PluginInfo(string Name, string Version, string Path, PluginStatus Status, string? Error,
    IReadOnlyList<ModalityDescriptor> Modalities);
