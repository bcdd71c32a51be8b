namespace Edu.Plugins;

/// <summary>What happened to a plugin the host found.</summary>
public enum PluginStatus
{
    /// <summary>Loaded; its registrations are in the catalogue.</summary>
    Loaded,
    /// <summary>Built for another framework or another plugin contract version; not loaded.</summary>
    Incompatible,
    /// <summary>An assembly it needs is not deployed beside it.</summary>
    MissingDependency,
    /// <summary>Not a loadable plugin (no assembly, not .NET, no entry point) or its entry point threw.</summary>
    Failed,
    /// <summary>It registers something another plugin already registered (a modality id, a plugin name...).</summary>
    Conflict,
}
