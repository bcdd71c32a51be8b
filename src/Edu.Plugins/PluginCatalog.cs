using System.Reflection;
using System.Runtime.Versioning;
using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;
using Edu.Abstractions.Synthetic;
using McMaster.NETCore.Plugins;

namespace Edu.Plugins;

/// <summary>
/// The plugins a host found and what they registered. <see cref="Load"/> looks in each search folder
/// for <c>&lt;Name&gt;/&lt;Name&gt;.dll</c>, checks the assembly's target framework and plugin contract
/// version from its metadata, loads it in its own load context (McMaster.NETCore.Plugins) sharing
/// <c>Edu.Abstractions</c> with the host, creates its one <see cref="IEduPlugin"/> and commits what it
/// registers. A plugin that fails any step is listed with its status and the reason, and skipped.
/// </summary>
public sealed class PluginCatalog
{
    private readonly List<PluginInfo> _plugins = [];
    private readonly List<ModalityDescriptor> _modalities = [];
    private readonly List<IImageReader> _readers = [];
    private readonly List<IPreprocessingStep> _steps = [];
    private readonly List<ISyntheticGenerator> _generators = [];
    private readonly List<IDatasetConverter> _converters = [];
    private readonly List<ModelVariant> _modelVariants = [];
    private readonly Dictionary<string, string> _owners = new(StringComparer.Ordinal);
    private readonly List<PluginLoader> _loaders = [];

    private PluginCatalog() { }

    /// <summary>Every plugin found, in load order, with its status.</summary>
    public IReadOnlyList<PluginInfo> Plugins => _plugins;

    /// <summary>Modalities of the loaded plugins.</summary>
    public IReadOnlyList<ModalityDescriptor> Modalities => _modalities;

    /// <summary>Readers the loaded plugins added.</summary>
    public IReadOnlyList<IImageReader> Readers => _readers;

    /// <summary>Custom preprocessing steps the loaded plugins added (the standard ones are in Edu.Imaging).</summary>
    public IReadOnlyList<IPreprocessingStep> PreprocessingSteps => _steps;

    /// <summary>Synthetic case generators.</summary>
    public IReadOnlyList<ISyntheticGenerator> Generators => _generators;

    /// <summary>Dataset converters.</summary>
    public IReadOnlyList<IDatasetConverter> Converters => _converters;

    /// <summary>Model variants for the model catalogue.</summary>
    public IReadOnlyList<ModelVariant> ModelVariants => _modelVariants;

    /// <summary>Loads the plugins of the default search path (<see cref="PluginSearchPath.Folders"/>).</summary>
    public static PluginCatalog LoadDefault() => Load(PluginSearchPath.Folders());

    /// <summary>Loads every plugin in <paramref name="folders"/> (missing folders are skipped); never throws for a bad plugin.</summary>
    public static PluginCatalog Load(IEnumerable<string> folders)
    {
        ArgumentNullException.ThrowIfNull(folders);
        var catalog = new PluginCatalog();
        foreach (string folder in folders)
        {
            if (!Directory.Exists(folder)) continue;
            foreach (string dir in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
                catalog.LoadOne(dir);
        }
        return catalog;
    }

    /// <summary>The modality with this id, or null.</summary>
    public ModalityDescriptor? FindModality(string id) => _modalities.FirstOrDefault(m => m.Id == id);

    /// <summary>The modality with this id; an unknown id is bad input, and the message lists the known ones.</summary>
    public ModalityDescriptor GetModality(string id) =>
        FindModality(id) ?? throw new InvalidInputException($"--modality {id}", $"no plugin registers this modality; known: {Known(_modalities.Select(m => m.Id))}");

    /// <summary>The generator for a modality, or null.</summary>
    public ISyntheticGenerator? FindGenerator(string modalityId) => _generators.FirstOrDefault(g => g.ModalityId == modalityId);

    /// <summary>The converter with this id, or null.</summary>
    public IDatasetConverter? FindConverter(string id) => _converters.FirstOrDefault(c => c.Id == id);

    /// <summary>The custom step with this name, or null.</summary>
    public IPreprocessingStep? FindStep(string name) => _steps.FirstOrDefault(s => s.Name == name);

    private static string Known(IEnumerable<string> ids) => ids.Any() ? string.Join(", ", ids.Order(StringComparer.Ordinal)) : "(none)";

    private void LoadOne(string dir)
    {
        string name = Path.GetFileName(dir);
        string dll = Path.Combine(dir, name + ".dll");
        if (!File.Exists(dll))
        {
            Report(name, "", dll, PluginStatus.Failed, $"no plugin assembly: expected {name}/{name}.dll in {Path.GetDirectoryName(dir)}");
            return;
        }
        if (_plugins.FirstOrDefault(p => p.Name == name && p.Status == PluginStatus.Loaded) is { } earlier)
        {
            Report(name, "", dll, PluginStatus.Conflict, $"a plugin named {name} is already loaded from {earlier.Path}");
            return;
        }

        AssemblyFacts facts;
        try { facts = AssemblyFacts.Read(dll); }
        catch (Exception e) when (e is BadImageFormatException or IOException or UnauthorizedAccessException)
        {
            Report(name, "", dll, PluginStatus.Failed, $"not a .NET assembly: {e.Message}");
            return;
        }
        if (FrameworkProblem(facts.TargetFramework) is { } frameworkProblem)
        {
            Report(name, facts.Version, dll, PluginStatus.Incompatible, frameworkProblem);
            return;
        }
        if (facts.ContractVersion is not { } contract)
        {
            Report(name, facts.Version, dll, PluginStatus.Incompatible,
                $"the assembly declares no plugin contract version; add [assembly: EduPluginContract(PluginContract.Version)] and rebuild against Edu.Abstractions (contract {PluginContract.Version})");
            return;
        }
        if (contract != PluginContract.Version)
        {
            Report(name, facts.Version, dll, PluginStatus.Incompatible,
                $"built against plugin contract {contract}; this host supports contract {PluginContract.Version}: rebuild the plugin against this version of Edu.Abstractions");
            return;
        }

        var registrations = new PluginRegistrations(name);
        try
        {
            var loader = PluginLoader.CreateFromAssemblyFile(dll, sharedTypes: [typeof(IEduPlugin)], config => config.PreferSharedTypes = true);
            _loaders.Add(loader);
            var assembly = loader.LoadDefaultAssembly();
            var entries = assembly.GetExportedTypes()
                .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IEduPlugin).IsAssignableFrom(t))
                .ToList();
            if (entries.Count != 1)
            {
                Report(name, facts.Version, dll, PluginStatus.Failed, entries.Count == 0
                    ? "no public class implements Edu.Abstractions.Plugins.IEduPlugin"
                    : $"more than one entry point: {string.Join(", ", entries.Select(t => t.FullName))}; a plugin has exactly one");
                return;
            }
            var plugin = (IEduPlugin)Activator.CreateInstance(entries[0])!;
            plugin.Register(registrations);
        }
        catch (Exception e)
        {
            var inner = e is TargetInvocationException { InnerException: { } i } ? i : e;
            if (MissingAssembly(inner) is { } missing)
                Report(name, facts.Version, dll, PluginStatus.MissingDependency, $"a dependency is not deployed beside the plugin: {missing}");
            else
                Report(name, facts.Version, dll, PluginStatus.Failed, $"the entry point failed: {inner.GetType().Name}: {inner.Message}");
            return;
        }

        if (ConflictOf(registrations) is { } conflict)
        {
            Report(name, facts.Version, dll, PluginStatus.Conflict, conflict);
            return;
        }
        Commit(registrations);
        Report(name, facts.Version, dll, PluginStatus.Loaded, null, registrations.Modalities);
    }

    private static string? FrameworkProblem(string? targetFramework)
    {
        string host = typeof(PluginCatalog).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()?.FrameworkName ?? ".NETCoreApp,Version=v10.0";
        if (targetFramework is null)
            return $"the assembly names no target framework; plugins target {Describe(host)}";
        var plugin = new FrameworkName(targetFramework);
        var mine = new FrameworkName(host);
        if (plugin.Identifier != mine.Identifier || plugin.Version != mine.Version)
            return $"built for {Describe(targetFramework)}; plugins must target {Describe(host)}, the host's framework";
        return null;
    }

    private static string Describe(string frameworkName)
    {
        var f = new FrameworkName(frameworkName);
        return f.Identifier switch
        {
            ".NETCoreApp" => $"net{f.Version.Major}.{f.Version.Minor}",
            ".NETStandard" => $"netstandard{f.Version.Major}.{f.Version.Minor}",
            ".NETFramework" => $".NET Framework {f.Version}",
            _ => frameworkName,
        };
    }

    private static string? MissingAssembly(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case FileNotFoundException f:
                    return f.FileName ?? f.Message;
                case FileLoadException l:
                    return l.FileName ?? l.Message;
                case ReflectionTypeLoadException r:
                    foreach (var le in r.LoaderExceptions)
                        if (le is not null && MissingAssembly(le) is { } m) return m;
                    break;
            }
        }
        return null;
    }

    private string? ConflictOf(PluginRegistrations r)
    {
        var problems = new List<string>();
        void Check(string kind, IEnumerable<string> keys)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (string key in keys)
            {
                if (!seen.Add(key)) problems.Add($"{kind} '{key}' is registered twice by this plugin");
                else if (_owners.TryGetValue($"{kind}:{key}", out var owner)) problems.Add($"{kind} '{key}' is already registered by plugin {owner}");
            }
        }
        Check("modality id", r.Modalities.Select(m => m.Id));
        Check("preprocessing step", r.Steps.Select(s => s.Name));
        Check("synthetic generator for modality", r.Generators.Select(g => g.ModalityId));
        Check("dataset converter", r.Converters.Select(c => c.Id));
        Check("model variant", r.ModelVariants.Select(v => v.Name));
        foreach (var s in r.Steps.Where(s => StandardStepNames.All.Contains(s.Name)))
            problems.Add($"preprocessing step '{s.Name}' is a standard step name");
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private void Commit(PluginRegistrations r)
    {
        foreach (var m in r.Modalities) _owners[$"modality id:{m.Id}"] = r.Plugin;
        foreach (var s in r.Steps) _owners[$"preprocessing step:{s.Name}"] = r.Plugin;
        foreach (var g in r.Generators) _owners[$"synthetic generator for modality:{g.ModalityId}"] = r.Plugin;
        foreach (var c in r.Converters) _owners[$"dataset converter:{c.Id}"] = r.Plugin;
        foreach (var v in r.ModelVariants) _owners[$"model variant:{v.Name}"] = r.Plugin;
        _modalities.AddRange(r.Modalities);
        _readers.AddRange(r.Readers);
        _steps.AddRange(r.Steps);
        _generators.AddRange(r.Generators);
        _converters.AddRange(r.Converters);
        _modelVariants.AddRange(r.ModelVariants);
    }

    private void Report(string name, string version, string path, PluginStatus status, string? error, IReadOnlyList<ModalityDescriptor>? modalities = null) =>
        _plugins.Add(new PluginInfo(name, version, path, status, error, modalities ?? []));
}
