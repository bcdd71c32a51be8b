namespace Edu.Worker.Models;

/// <summary>A request's hold on a loaded model; disposing it lets an unload proceed.</summary>
public sealed class ModelLease : IDisposable
{
    private LoadedModel? _model;

    internal ModelLease(LoadedModel model) => _model = model;

    /// <summary>The model.</summary>
    public LoadedModel Model => _model ?? throw new ObjectDisposedException(nameof(ModelLease));

    /// <inheritdoc />
    public void Dispose() => Interlocked.Exchange(ref _model, null)?.Release();
}
