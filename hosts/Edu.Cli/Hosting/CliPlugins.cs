using Edu.Models.Catalogue;
using Edu.Plugins;

namespace Edu.Cli.Hosting;

/// <summary>The plugin catalogue of this process: loaded once, on first use, from the default search path.</summary>
public static class CliPlugins
{
    private static readonly Lazy<PluginCatalog> Loaded = new(PluginCatalog.LoadDefault);
    private static readonly Lazy<ModelCatalogue> LoadedModels = new(() =>
        ModelCatalogue.CreateWith(Catalog.ModelVariants.Select(v => (v.Name, v.Description, v.Factory))));

    /// <summary>The catalogue (plugins beside the CLI in <c>plugins/</c>, then <c>EDU_PLUGINS_PATH</c>).</summary>
    public static PluginCatalog Catalog => Loaded.Value;

    /// <summary>The eight built-in nets and every plugin's model variants.</summary>
    public static ModelCatalogue Models => LoadedModels.Value;

    /// <summary>The status as <c>edu plugins --json</c> writes it: loaded, incompatible, missing-dependency, failed, conflict.</summary>
    public static string StatusText(PluginStatus status) => status switch
    {
        PluginStatus.MissingDependency => "missing-dependency",
        _ => status.ToString().ToLowerInvariant(),
    };
}
