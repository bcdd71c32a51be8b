using TorchSharp;

namespace Edu.Models.Blocks;

/// <summary>
/// Submodules registered under names of our choosing (state-dict keys such as <c>nodes.0_1.conv1.weight</c>).
/// Used instead of TorchSharp's <c>ModuleDict</c>, whose indexer properties break <c>module.to(dtype/device)</c>
/// in TorchSharp 0.107 ("An item with the same key has already been added. Key: Item").
/// </summary>
/// <typeparam name="T">The submodules' type.</typeparam>
public sealed class NamedModules<T> : torch.nn.Module where T : torch.nn.Module
{
    private readonly Dictionary<string, T> _byName = new(StringComparer.Ordinal);

    /// <summary>Creates an empty container.</summary>
    public NamedModules() : base(nameof(NamedModules<T>)) { }

    /// <summary>Registers <paramref name="module"/> under <paramref name="name"/>.</summary>
    public void Add(string name, T module)
    {
        _byName.Add(name, module);
        register_module(name, module);
    }

    /// <summary>The submodule registered under <paramref name="name"/>.</summary>
    public T Get(string name) => _byName[name];
}
