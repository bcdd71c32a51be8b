using System.Globalization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Plugins;
using Edu.Models.Nets;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Catalogue;

/// <summary>
/// Model name → factory. <see cref="CreateBuiltIn"/> holds the eight MODELS.md nets; plugins add theirs with
/// <see cref="Register"/>, which refuses a name already taken. Thread-safe.
/// </summary>
public sealed class ModelCatalogue
{
    private readonly Dictionary<string, ModelDefinition> _models = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly Lock _lock = new();

    // Layer initialisation draws from LibTorch's one process-wide generator. Building every net under one lock keeps a
    // seeded build reproducible while other threads (a worker's jobs, parallel tests) build nets of their own. Code that
    // draws from that generator outside this lock (torch.randn without a generator) can still disturb a seeded build:
    // draw from a private torch.Generator instead, or build through Seeded.
    private static readonly Lock InitLock = new();

    /// <summary>
    /// Runs <paramref name="build"/> with LibTorch's global generator seeded to <paramref name="seed"/>, under the lock that every
    /// catalogue build takes, so modules built outside the catalogue (a plugin's own blocks, tests) are reproducible too.
    /// </summary>
    public static T Seeded<T>(long seed, Func<T> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        lock (InitLock)
        {
            manual_seed(seed);
            return build();
        }
    }

    /// <summary>The built-in names, in catalogue order.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = ["unet", "attention-unet", "unet-mde", "attention-unet-mde", "unetpp", "edu", "edu-dense", "edu-lean"];

    /// <summary>
    /// The net that "E-DU" means where none is named (<c>edu train</c>, <c>edu quickstart</c>, the worker's StartTraining):
    /// the reading of the E-DU paper chosen from the convergence and memory measurements in docs/benchmarks.md.
    /// </summary>
    public const string DefaultModel = "edu-dense";

    /// <summary>An empty catalogue.</summary>
    public ModelCatalogue() { }

    /// <summary>A catalogue holding the eight built-in nets.</summary>
    public static ModelCatalogue CreateBuiltIn()
    {
        var c = new ModelCatalogue();
        c.Register(new("unet", "U-Net: concatenation skips (Ronneberger et al. 2015)",
            h => new UNet(h.SpatialDims, h.InChannels, h.Classes, h.BaseChannels, h.Depth)));
        c.Register(new("attention-unet", "Attention U-Net: additive attention gates on the skips (Oktay et al. 2018)",
            h => new AttentionUNet(h.SpatialDims, h.InChannels, h.Classes, h.BaseChannels, h.Depth)));
        c.Register(new("unet-mde", "U-Net with multi-scale denoise enhancement (MDE) replacing each skip, additive fusion",
            h => new UNetMde(h.SpatialDims, h.InChannels, h.Classes, h.BaseChannels, h.Depth)));
        c.Register(new("attention-unet-mde", "Attention U-Net with MDE on the gated skips",
            h => new AttentionUNetMde(h.SpatialDims, h.InChannels, h.Classes, h.BaseChannels, h.Depth)));
        c.Register(new("unetpp", "UNet++: nested dense skip pathways (Zhou et al. 2018)",
            h => new UNetPlusPlus(h.SpatialDims, h.InChannels, h.Classes, h.BaseChannels, h.Depth, h.DeepSupervision)));
        c.Register(new("edu", "E-DU, first reading: UNet++ topology, MDE on the mean of each node's dense skips, additive fusion",
            h => new EDenseUNet(h.SpatialDims, h.InChannels, h.Classes, h.BaseChannels, h.Depth, h.DeepSupervision)));
        c.Register(new("edu-dense", "E-DU (the default): UNet++ with each encoder feature through a residual MDE (MdeLite, identity at start)",
            h => new EduDense(h.SpatialDims, h.InChannels, h.Classes, h.BaseChannels, h.Depth, h.DeepSupervision)));
        c.Register(new("edu-lean", "E-DU, second reading: nested decoders on MdeLite-enhanced encoder features, no dense pathway",
            h => new EduLean(h.SpatialDims, h.InChannels, h.Classes, h.BaseChannels, h.Depth, h.DeepSupervision)));
        return c;
    }

    /// <summary>Adds a model; a name already registered is refused with an <see cref="InvalidInputException"/>.</summary>
    public void Register(ModelDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (string.IsNullOrWhiteSpace(definition.Name))
            throw new InvalidInputException("model name", "a model needs a non-empty name");
        lock (_lock)
        {
            if (!_models.TryAdd(definition.Name, definition))
                throw new InvalidInputException(definition.Name, $"a model named '{definition.Name}' is already registered");
            _order.Add(definition.Name);
        }
    }

    /// <summary>Every definition, in registration order.</summary>
    public IReadOnlyList<ModelDefinition> Definitions
    {
        get { lock (_lock) return _order.Select(n => _models[n]).ToArray(); }
    }

    /// <summary>The definition named <paramref name="name"/>, or null.</summary>
    public ModelDefinition? Find(string name)
    {
        lock (_lock) return _models.GetValueOrDefault(name);
    }

    /// <summary>The definition named <paramref name="name"/>; unknown names are an <see cref="InvalidInputException"/> listing the known ones.</summary>
    public ModelDefinition Get(string name) =>
        Find(name) ?? throw new InvalidInputException(name, $"no model named '{name}'; known: {string.Join(", ", Definitions.Select(d => d.Name))}");

    /// <summary>
    /// Registers a plugin's model variant (<c>IPluginRegistry.AddModelVariant</c>): its factory gets the hyperparameters
    /// under their model.json names (<c>spatial_dims</c>, <c>in_channels</c>, <c>classes</c>, <c>base_channels</c>,
    /// <c>depth</c>, <c>deep_supervision</c>) and must return a TorchSharp <c>Module&lt;Tensor, Tensor&gt;</c>.
    /// </summary>
    public void RegisterVariant(string name, string description, ModelVariantFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Register(new ModelDefinition(name, description, hp =>
        {
            object built;
            try
            {
                built = factory(VariantHyperparameters(hp.Resolved()));
            }
            catch (Exception e) when (e is not (InvalidInputException or OutOfMemoryException))
            {
                // a plugin refusing these hyperparameters (a 3-D request to a 2-D net, say) is bad input, not a crash
                throw new InvalidInputException(name, $"the plugin's model factory refused these hyperparameters: {e.Message}", e);
            }
            if (built is Module<Tensor, Tensor> module) return module;
            (built as IDisposable)?.Dispose();
            throw new InvalidInputException(name, $"the plugin's model factory returned {built?.GetType().FullName ?? "null"}, not a TorchSharp Module<Tensor, Tensor>");
        }));
    }

    /// <summary>A catalogue of the eight built-in nets and every given plugin variant (name, description, factory).</summary>
    public static ModelCatalogue CreateWith(IEnumerable<(string Name, string Description, ModelVariantFactory Factory)> variants)
    {
        ArgumentNullException.ThrowIfNull(variants);
        var catalogue = CreateBuiltIn();
        foreach (var (name, description, factory) in variants) catalogue.RegisterVariant(name, description, factory);
        return catalogue;
    }

    private static Dictionary<string, string> VariantHyperparameters(ModelHyperparameters h) => new()
    {
        ["spatial_dims"] = h.SpatialDims.ToString(CultureInfo.InvariantCulture),
        ["in_channels"] = h.InChannels.ToString(CultureInfo.InvariantCulture),
        ["classes"] = h.Classes.ToString(CultureInfo.InvariantCulture),
        ["base_channels"] = h.EffectiveBaseChannels.ToString(CultureInfo.InvariantCulture),
        ["depth"] = h.Depth.ToString(CultureInfo.InvariantCulture),
        ["deep_supervision"] = h.DeepSupervision ? "true" : "false",
    };

    /// <summary>
    /// Builds the named net (on the CPU, float32, in training mode). With a <paramref name="seed"/>, the initial weights
    /// depend on the seed alone, even while other threads build nets.
    /// </summary>
    public Module<Tensor, Tensor> Create(string name, ModelHyperparameters hyperparameters, long? seed = null)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        var definition = Get(name);
        if (hyperparameters.SpatialDims is not (2 or 3))
            throw new InvalidInputException("spatial dims", $"{hyperparameters.SpatialDims} is not supported: use 2 or 3");
        if (hyperparameters.InChannels < 1 || hyperparameters.Classes < 1 || hyperparameters.Depth < 1 || hyperparameters.BaseChannels is < 1)
            throw new InvalidInputException(name, "in-channels, classes, base channels and depth must all be at least 1");
        if (seed is long s) return Seeded(s, () => definition.Factory(hyperparameters));
        lock (InitLock) return definition.Factory(hyperparameters);
    }
}
