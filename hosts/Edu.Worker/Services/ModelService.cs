using Edu.V1;
using Edu.Worker.Models;
using Grpc.Core;

namespace Edu.Worker.Services;

/// <summary><c>edu.v1.ModelService</c>: the <see cref="ModelStore"/>.</summary>
public sealed class ModelService : Edu.V1.ModelService.ModelServiceBase
{
    private readonly ModelStore _store;

    /// <summary>Creates the service.</summary>
    public ModelService(ModelStore store) => _store = store;

    /// <inheritdoc />
    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context)
    {
        var response = new ListModelsResponse();
        response.Models.AddRange(_store.List().Where(e => request.Name.Length == 0 || e.Name == request.Name).Select(Describe));
        return Task.FromResult(response);
    }

    /// <inheritdoc />
    public override async Task<ModelInfo> LoadModel(ModelRef request, ServerCallContext context)
    {
        var entry = _store.Resolve(request.Name, request.Version);
        using (await _store.AcquireAsync(entry, context.CancellationToken).ConfigureAwait(false)) { }
        return Describe(entry);
    }

    /// <inheritdoc />
    public override Task<ModelInfo> UnloadModel(ModelRef request, ServerCallContext context)
    {
        var entry = _store.Resolve(request.Name, request.Version);
        _store.Unload(entry);
        return Task.FromResult(Describe(entry));
    }

    /// <inheritdoc />
    public override Task<DeleteModelResponse> DeleteModel(ModelRef request, ServerCallContext context)
    {
        var entry = _store.Resolve(request.Name, request.Version);
        _store.Delete(entry);
        return Task.FromResult(new DeleteModelResponse { Name = entry.Name, Version = entry.Version });
    }

    private ModelInfo Describe(ModelEntry entry)
    {
        var info = new ModelInfo
        {
            Name = entry.Name,
            Version = entry.Version,
            Architecture = entry.Manifest.Architecture,
            Modality = entry.Manifest.Modality ?? "",
            Parameters = entry.Manifest.Parameters ?? 0,
            Loaded = _store.IsLoaded(entry),
            ManifestJson = entry.ManifestJson,
        };
        info.Labels.Add(entry.Manifest.Labels.ToDictionary());
        return info;
    }
}
