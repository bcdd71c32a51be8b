using System.Globalization;
using Edu.Abstractions.Errors;
using Edu.Inference;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using Edu.Models.Runtime;
using Edu.Worker.Configuration;
using Edu.Worker.Errors;
using Edu.Worker.Metrics;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace Edu.Worker.Models;

/// <summary>
/// The model packages in the models folder, versions side by side. A package is any folder up to two
/// levels below the models folder holding a <c>model.json</c> (the convention is <c>{name}/{version}/</c>);
/// it is known by the manifest's name and version. Packages are loaded on first use and stay loaded
/// until unloaded or deleted.
/// </summary>
public sealed class ModelStore : IDisposable
{
    private readonly string _root;
    private readonly string _deviceSpec;
    private readonly InferenceBackend _backend;
    private readonly ModelCatalogue _catalogue;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger<ModelStore> _logger;
    private readonly Dictionary<(string Name, string Version), LoadedModel> _loaded = [];
    private readonly SemaphoreSlim _loadGate = new(1, 1);

    /// <summary>Creates the store over <see cref="WorkerOptions.ModelsPath"/>.</summary>
    public ModelStore(IOptions<WorkerOptions> options, ModelCatalogue catalogue, WorkerMetrics metrics, ILogger<ModelStore> logger)
    {
        _root = Path.GetFullPath(options.Value.ModelsPath);
        _deviceSpec = options.Value.Device;
        _backend = InferenceBackends.Parse(options.Value.InferenceBackend, "Worker:InferenceBackend");
        _catalogue = catalogue;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The models folder.</summary>
    public string Root => _root;

    /// <summary>Every readable package, by name then newest version first. Unreadable ones are logged and skipped.</summary>
    public IReadOnlyList<ModelEntry> List()
    {
        var entries = new List<ModelEntry>();
        if (!Directory.Exists(_root)) return entries;
        var folders = Directory.EnumerateDirectories(_root)
            .SelectMany(d => new[] { d }.Concat(Directory.EnumerateDirectories(d)));
        foreach (var folder in folders)
        {
            string manifestPath = Path.Combine(folder, ModelPackage.ManifestFile);
            if (!File.Exists(manifestPath)) continue;
            try
            {
                var manifest = ModelPackage.ReadManifest(folder);
                entries.Add(new ModelEntry(folder, manifest, File.ReadAllText(manifestPath)));
            }
            catch (InvalidInputException e)
            {
                _logger.LogWarning("Skipping model package {Folder}: {Reason}", folder, e.Message);
            }
        }
        return [.. entries.OrderBy(e => e.Name, StringComparer.Ordinal).ThenByDescending(e => e.Version, VersionComparer.Instance)];
    }

    /// <summary>The package <paramref name="name"/> at <paramref name="version"/> (empty or null: newest). NotFound otherwise.</summary>
    public ModelEntry Resolve(string name, string? version)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new InvalidInputException("model", "no model name given");
        var candidates = List().Where(e => e.Name == name).ToList();
        if (candidates.Count == 0)
        {
            var known = List().Select(e => e.Name).Distinct().ToList();
            throw new NotFoundException($"model '{name}'", known.Count == 0 ? "the models folder holds no packages" : $"known: {string.Join(", ", known)}");
        }
        if (string.IsNullOrEmpty(version)) return candidates[0];
        return candidates.FirstOrDefault(e => e.Version == version)
            ?? throw new NotFoundException($"model '{name}' version '{version}'", $"versions: {string.Join(", ", candidates.Select(c => c.Version))}");
    }

    /// <summary>Whether a package is loaded now.</summary>
    public bool IsLoaded(ModelEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_loaded) return _loaded.ContainsKey((entry.Name, entry.Version));
    }

    /// <summary>Loads (if needed) and leases the package; dispose the lease when done with the network.</summary>
    public async Task<ModelLease> AcquireAsync(ModelEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var key = (entry.Name, entry.Version);
        while (true)
        {
            lock (_loaded)
                if (_loaded.TryGetValue(key, out var present) && present.TryAcquire())
                    return new ModelLease(present);
            await _loadGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                bool exists;
                lock (_loaded) exists = _loaded.ContainsKey(key);
                if (exists) continue; // loaded by another request meanwhile
                var device = DeviceSpec.Parse(_deviceSpec, "Worker:Device");
                var loaded = await Task.Run(() =>
                {
                    var (manifest, network) = ModelPackage.Load(entry.Directory, _catalogue);
                    if (_backend == InferenceBackend.OnnxRuntime) network = OnnxRuntimeNet.FromNet(network, manifest, entry.Directory);
                    network.to(device);
                    network.eval();
                    return new LoadedModel(entry, network, device);
                }, cancellationToken).ConfigureAwait(false);
                lock (_loaded)
                {
                    _loaded[key] = loaded;
                    _metrics.ModelsLoaded.Set(_loaded.Count);
                }
                _logger.LogInformation("Loaded model {Name} {Version} ({Architecture}) on {Device} with {Backend}", entry.Name, entry.Version,
                    entry.Manifest.Architecture, _deviceSpec, _backend.Name());
            }
            finally
            {
                _loadGate.Release();
            }
        }
    }

    /// <summary>Unloads the package (its memory is freed once running requests end); false when it was not loaded.</summary>
    public bool Unload(ModelEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        LoadedModel? model;
        lock (_loaded)
        {
            if (!_loaded.Remove((entry.Name, entry.Version), out model)) return false;
            _metrics.ModelsLoaded.Set(_loaded.Count);
        }
        model.RequestUnload();
        _logger.LogInformation("Unloaded model {Name} {Version}", entry.Name, entry.Version);
        return true;
    }

    /// <summary>Unloads and deletes the package folder.</summary>
    public void Delete(ModelEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Unload(entry);
        string full = Path.GetFullPath(entry.Directory);
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidInputException(entry.Directory, "is not inside the models folder; refusing to delete it");
        Directory.Delete(full, recursive: true);
        _logger.LogInformation("Deleted model {Name} {Version} ({Folder})", entry.Name, entry.Version, full);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_loaded)
        {
            foreach (var model in _loaded.Values) model.RequestUnload();
            _loaded.Clear();
        }
        _loadGate.Dispose();
    }

    /// <summary>Orders versions numerically where they parse as numbers or dotted versions, else ordinally.</summary>
    private sealed class VersionComparer : IComparer<string>
    {
        public static readonly VersionComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            string a = (x ?? "").TrimStart('v', 'V'), b = (y ?? "").TrimStart('v', 'V');
            if (long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out long la) &&
                long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out long lb))
                return la.CompareTo(lb);
            if (Version.TryParse(a, out var va) && Version.TryParse(b, out var vb)) return va.CompareTo(vb);
            return string.CompareOrdinal(x, y);
        }
    }
}
