using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Serialization;
using Edu.Models.Catalogue;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Checkpoints;

/// <summary>Where training stood when a checkpoint was written.</summary>
public sealed record CheckpointInfo(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("hyperparameters")] ModelHyperparameters Hyperparameters,
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("step")] long Step);

/// <summary>
/// A training checkpoint folder: <c>weights.safetensors</c> (model state dict), <c>optimizer.bin</c>
/// (TorchSharp's optimizer state: moments and step counts) and <c>checkpoint.json</c> (<see cref="CheckpointInfo"/>).
/// Resuming from it continues training exactly where it stopped.
/// </summary>
public static class TrainingCheckpoint
{
    public const string WeightsFile = "weights.safetensors";
    public const string OptimizerFile = "optimizer.bin";
    public const string InfoFile = "checkpoint.json";

    /// <summary>Writes the checkpoint into <paramref name="directory"/> (created if needed; its files replaced).</summary>
    public static void Save(string directory, Module model, OptimizerHelper optimizer, CheckpointInfo info)
    {
        Directory.CreateDirectory(directory);
        Weights.SaveSafetensors(model, Path.Combine(directory, WeightsFile));
        string opt = Path.Combine(directory, OptimizerFile);
        optimizer.save_state_dict(opt + ".tmp");
        File.Move(opt + ".tmp", opt, overwrite: true);
        File.WriteAllText(Path.Combine(directory, InfoFile), JsonSerializer.Serialize(info, JsonOptions));
    }

    /// <summary>Reads <c>checkpoint.json</c>, so the caller can build the right model and optimizer first.</summary>
    public static CheckpointInfo ReadInfo(string directory)
    {
        string path = Path.Combine(directory, InfoFile);
        if (!File.Exists(path)) throw new InvalidInputException(directory, $"not a checkpoint: {InfoFile} is missing");
        try
        {
            return JsonSerializer.Deserialize<CheckpointInfo>(File.ReadAllText(path), JsonOptions)
                   ?? throw new JsonException("empty");
        }
        catch (JsonException e) { throw new InvalidInputException(path, $"not a valid checkpoint description: {e.Message}", e); }
    }

    /// <summary>Loads weights and optimizer state into an already built model and optimizer (same architecture and parameter order).</summary>
    public static CheckpointInfo Load(string directory, Module model, OptimizerHelper optimizer)
    {
        var info = ReadInfo(directory);
        Weights.LoadSafetensors(model, Path.Combine(directory, WeightsFile));
        string opt = Path.Combine(directory, OptimizerFile);
        if (!File.Exists(opt)) throw new InvalidInputException(directory, $"not a checkpoint: {OptimizerFile} is missing");
        try { optimizer.load_state_dict(opt); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or System.Runtime.InteropServices.ExternalException)
        { throw new InvalidInputException(opt, $"optimizer state does not match this optimizer: {e.Message}", e); }
        return info;
    }

    internal static JsonSerializerOptions JsonOptions => EduJson.Indented;
}
