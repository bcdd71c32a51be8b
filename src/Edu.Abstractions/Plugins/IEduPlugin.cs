namespace Edu.Abstractions.Plugins;

/// <summary>
/// The one entry point of a plugin assembly: a public non-abstract class with a public
/// parameterless constructor. The host creates it once and calls <see cref="Register"/>; what the
/// plugin registers is committed only when <see cref="Register"/> returns without throwing and
/// nothing it registers clashes with another plugin (e.g. a modality id already taken).
/// </summary>
public interface IEduPlugin
{
    /// <summary>Adds the plugin's modalities, readers, preprocessing steps, generators, converters and model variants.</summary>
    void Register(IPluginRegistry registry);
}
