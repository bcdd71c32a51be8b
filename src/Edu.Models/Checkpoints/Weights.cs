using Edu.Abstractions.Errors;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Checkpoints;

/// <summary>
/// A model's state dict (parameters and BatchNorm buffers) to and from files: safetensors (the native
/// format of packages and checkpoints) and PyTorch's pickled <c>state_dict</c> (<c>torch.load</c>-able, via
/// TorchSharp.PyBridge). Keys are PyTorch-style (<c>encoder.0.conv1.weight</c>).
/// </summary>
public static class Weights
{
    /// <summary>Writes the state dict as safetensors.</summary>
    public static void SaveSafetensors(Module model, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        Safetensors.Save(path, model.state_dict(), metadata);

    /// <summary>
    /// Loads a safetensors state dict into <paramref name="model"/> (on the model's device). Missing or
    /// unexpected keys and shape mismatches are an <see cref="InvalidInputException"/> naming the key and
    /// both shapes; nothing is copied unless everything matches.
    /// </summary>
    public static void LoadSafetensors(Module model, string path)
    {
        var loaded = Safetensors.Load(path);
        try { CopyInto(model, loaded, path); }
        finally { foreach (var t in loaded.Values) t.Dispose(); }
    }

    /// <summary>Writes a PyTorch-loadable pickled state dict (<c>torch.load(path)</c> returns an OrderedDict).</summary>
    public static void ExportPyTorch(Module model, string path) => model.save_py(path);

    /// <summary>Loads a state dict saved by PyTorch's <c>torch.save(model.state_dict(), path)</c>, strictly.</summary>
    public static void ImportPyTorch(Module model, string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException(path, "weights file not found");
        var expected = model.state_dict();
        using var scope = NewDisposeScope();
        var staging = new Dictionary<string, Tensor>();
        foreach (var (k, v) in expected) staging[k] = v.detach().clone();
        try
        {
            model.load_py(path, strict: true);
        }
        catch (Exception e) when (e is not InvalidInputException and not OutOfMemoryException)
        {
            // restore what may have been partially copied, then report
            CopyInto(model, staging, path);
            throw new InvalidInputException(path, $"not a state dict matching this model: {e.Message}", e);
        }
    }

    /// <summary>Copies <paramref name="source"/> into the model's state dict after checking keys and shapes.</summary>
    public static void CopyInto(Module model, IReadOnlyDictionary<string, Tensor> source, string origin)
    {
        var target = model.state_dict();
        var missing = target.Keys.Where(k => !source.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidInputException(origin, $"weights do not match the architecture: key '{missing[0]}' is missing ({missing.Count} missing in all)");
        var unexpected = source.Keys.Where(k => !target.ContainsKey(k)).ToList();
        if (unexpected.Count > 0)
            throw new InvalidInputException(origin, $"weights do not match the architecture: unexpected key '{unexpected[0]}' ({unexpected.Count} unexpected in all)");
        foreach (var (key, t) in target)
        {
            var s = source[key];
            if (!s.shape.SequenceEqual(t.shape))
                throw new InvalidInputException(origin, $"weights do not match the architecture: '{key}' has shape [{string.Join(", ", s.shape)}] in the file but [{string.Join(", ", t.shape)}] in the model");
        }
        using var noGrad = no_grad();
        foreach (var (key, t) in target)
            t.copy_(source[key]);
    }
}
