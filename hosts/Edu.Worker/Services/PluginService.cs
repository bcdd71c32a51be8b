using Edu.Plugins;
using Edu.V1;
using Grpc.Core;

namespace Edu.Worker.Services;

/// <summary><c>edu.v1.PluginService</c>: the worker's <see cref="PluginCatalog"/>.</summary>
public sealed class PluginService : Edu.V1.PluginService.PluginServiceBase
{
    private readonly PluginCatalog _catalog;

    /// <summary>Creates the service.</summary>
    public PluginService(PluginCatalog catalog) => _catalog = catalog;

    /// <inheritdoc />
    public override Task<ListPluginsResponse> ListPlugins(ListPluginsRequest request, ServerCallContext context)
    {
        var response = new ListPluginsResponse();
        foreach (var p in _catalog.Plugins)
        {
            var info = new Edu.V1.PluginInfo
            {
                Name = p.Name,
                Version = p.Version,
                Status = p.Status == PluginStatus.MissingDependency ? "missing-dependency" : p.Status.ToString().ToLowerInvariant(),
                Error = p.Error ?? "",
            };
            info.Modalities.AddRange(p.Modalities.Select(m => m.Id));
            response.Plugins.Add(info);
        }
        foreach (var m in _catalog.Modalities)
        {
            var info = new ModalityInfo { Id = m.Id, Name = m.Name, Dims = m.Dims, DefaultPipeline = m.DefaultPipeline.ToString() };
            info.ChannelNames.AddRange(m.ChannelNames);
            info.FileFormats.AddRange(m.FileFormats);
            info.LabelNames.AddRange(m.LabelNames);
            response.Modalities.Add(info);
        }
        return Task.FromResult(response);
    }
}
