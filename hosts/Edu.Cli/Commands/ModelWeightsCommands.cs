using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Cli.Hosting;
using Edu.Inference;
using Edu.Inference.Output;
using Edu.Models.Blocks;
using Edu.Models.Checkpoints;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu models export --model RUN_OR_PACKAGE --out FILE.pt|FILE.safetensors</c> and
/// <c>edu models import --model PACKAGE --weights FILE.pt|FILE.safetensors --out NEW_PACKAGE</c>: move weights to and from
/// PyTorch. A <c>.pt</c> is a pickled state dict (<c>torch.load</c> gives an OrderedDict for <c>load_state_dict</c>,
/// keys as the nets of bench/pytorch_models.py); <c>.safetensors</c> is read by the safetensors library. Import checks
/// every key and shape against the package's architecture and writes a new package; nothing is overwritten.
/// </summary>
public static class ModelWeightsCommands
{
    /// <summary>What <c>--json</c> prints.</summary>
    public sealed record Summary(
        [property: JsonPropertyName("architecture")] string Architecture,
        [property: JsonPropertyName("tensors")] int Tensors,
        [property: JsonPropertyName("parameters")] long Parameters,
        [property: JsonPropertyName("path")] string Path);

    /// <summary>The export command.</summary>
    public static Command Export()
    {
        var model = new Option<string>("--model") { Description = "A model package folder or a training run folder.", Required = true };
        var output = new Option<string>("--out") { Description = "The weights file to write: .pt (PyTorch state dict) or .safetensors. Never overwritten.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("export", "Write a package's weights for PyTorch (.pt state dict) or as .safetensors.") { model, output, json };
        command.SetAction(parse =>
        {
            string package = ModelPackageLocator.Resolve(parse.GetValue(model)!);
            string path = Path.GetFullPath(parse.GetValue(output)!);
            var write = Writer(path);
            if (File.Exists(path) || Directory.Exists(path))
                throw new InvalidInputException(path, "exists already; weights are never overwritten");
            var (manifest, net) = ModelPackage.Load(package, CliPlugins.Models);
            using (net)
            {
                PredictionWriter.WriteNew(path, temp => write(net, temp));
                Report(parse.GetValue(json), new Summary(manifest.Architecture, net.state_dict().Count, Layers.CountParameters(net), path));
            }
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>The import command.</summary>
    public static Command Import()
    {
        var model = new Option<string>("--model") { Description = "The package (or run folder) whose architecture, labels and preprocessing the weights belong to.", Required = true };
        var weights = new Option<string>("--weights") { Description = "A .pt state dict saved by PyTorch (torch.save(net.state_dict(), path)) or a .safetensors file.", Required = true };
        var output = new Option<string>("--out") { Description = "The new package folder (must not exist).", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("import", "Make a new package from a package's description and weights trained elsewhere (PyTorch .pt or .safetensors).")
        {
            model, weights, output, json,
        };
        command.SetAction(parse =>
        {
            string package = ModelPackageLocator.Resolve(parse.GetValue(model)!);
            string file = Path.GetFullPath(parse.GetValue(weights)!);
            string target = Path.GetFullPath(parse.GetValue(output)!);
            var read = Reader(file);
            if (!File.Exists(file)) throw new InvalidInputException(file, "weights file not found");
            if (File.Exists(target) || Directory.Exists(target))
                throw new InvalidInputException(target, "exists already; choose a new folder for the imported package");
            var (manifest, net) = ModelPackage.Load(package, CliPlugins.Models);
            using (net)
            {
                read(net, file); // every key and shape checked; the net is unchanged on failure
                // the metrics and training-data hash described the old weights, not these
                ModelPackage.Save(target, manifest with { Metrics = new Dictionary<string, double>(), TrainingDataHash = null }, net);
                Report(parse.GetValue(json), new Summary(manifest.Architecture, net.state_dict().Count, Layers.CountParameters(net), target));
            }
            return CliApp.Ok;
        });
        return command;
    }

    private static Action<TorchSharp.torch.nn.Module, string> Writer(string path) => Format(path) switch
    {
        ".pt" => Weights.ExportPyTorch,
        _ => (net, p) => Weights.SaveSafetensors(net, p),
    };

    private static Action<TorchSharp.torch.nn.Module, string> Reader(string path) => Format(path) switch
    {
        ".pt" => Weights.ImportPyTorch,
        _ => Weights.LoadSafetensors,
    };

    private static string Format(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        return ext is ".pt" or ".pth" ? ".pt" : ext == ".safetensors" ? ext
            : throw new InvalidInputException(path, "name a .pt (PyTorch state dict) or .safetensors file");
    }

    private static void Report(bool json, Summary summary)
    {
        if (json) Console.Out.WriteLine(JsonSerializer.Serialize(summary, CliJson.Options));
        else Console.Out.WriteLine($"{summary.Architecture}: {summary.Tensors} tensors, {summary.Parameters:N0} parameters → {summary.Path}");
    }
}
