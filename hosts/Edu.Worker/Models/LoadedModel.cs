using Edu.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Worker.Models;

/// <summary>
/// A model package loaded on the worker's device. Requests hold a lease while they use it; an unload
/// frees the network once the last lease ends, so a running request never sees it disposed.
/// </summary>
public sealed class LoadedModel
{
    private readonly object _gate = new();
    private int _leases;
    private bool _unloadRequested;
    private bool _disposed;

    internal LoadedModel(ModelEntry entry, Module<Tensor, Tensor> network, Device device)
    {
        Entry = entry;
        Network = network;
        Device = device;
    }

    /// <summary>The package.</summary>
    public ModelEntry Entry { get; }

    /// <summary>The manifest.</summary>
    public ModelManifest Manifest => Entry.Manifest;

    /// <summary>The network, in eval mode, on <see cref="Device"/>.</summary>
    public Module<Tensor, Tensor> Network { get; }

    /// <summary>Where the network lives.</summary>
    public Device Device { get; }

    /// <summary>Takes a lease; false when the model is being unloaded.</summary>
    internal bool TryAcquire()
    {
        lock (_gate)
        {
            if (_unloadRequested || _disposed) return false;
            _leases++;
            return true;
        }
    }

    /// <summary>Ends a lease.</summary>
    internal void Release()
    {
        lock (_gate)
        {
            _leases--;
            if (_leases == 0 && _unloadRequested) DisposeNetwork();
        }
    }

    /// <summary>Asks for the network to be freed as soon as no request uses it.</summary>
    internal void RequestUnload()
    {
        lock (_gate)
        {
            _unloadRequested = true;
            if (_leases == 0) DisposeNetwork();
        }
    }

    private void DisposeNetwork()
    {
        if (_disposed) return;
        _disposed = true;
        Network.Dispose();
    }
}
