using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Cli.Hosting;
using Edu.Inference;
using Edu.Inference.Output;
using Edu.Models.Blocks;
using Edu.Models.Checkpoints;
using Edu.Models.Onnx;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu models export --model RUN_OR_PACKAGE --out FILE.pt|FILE.safetensors|FILE.onnx</c> and
/// <c>edu models import --model PACKAGE --weights FILE.pt|FILE.safetensors --out NEW_PACKAGE</c>: move weights to and from
/// PyTorch. A <c>.pt</c> is a pickled state dict (<c>torch.load</c> gives an OrderedDict for <c>load_state_dict</c>,
/// keys as the nets of bench/pytorch_models.py); <c>.safetensors</c> is read by the safetensors library. Import checks
/// every key and shape against the package's architecture and writes a new package; nothing is overwritten. A <c>.onnx</c>
/// file is the net as an ONNX inference graph (opset 17, <see cref="OnnxExporter"/>) for ONNX Runtime, TensorRT and the like.
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
        var output = new Option<string>("--out") { Description = "The file to write: .pt (PyTorch state dict), .safetensors, or .onnx (the net as an ONNX graph). Never overwritten.", Required = true };
        var format = new Option<string?>("--format") { Description = "pt, safetensors or onnx (default: from the --out file's extension)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("export", "Write a package's weights for PyTorch (.pt state dict), as .safetensors, or the whole net as ONNX (.onnx).") { model, output, format, json };
        command.SetAction(parse =>
        {
            string package = ModelPackageLocator.Resolve(parse.GetValue(model)!);
            string path = Path.GetFullPath(parse.GetValue(output)!);
            string? ext = KnownExtension(path);
            string kind = parse.GetValue(format) is { } named ? FormatNamed(named)
                : ext ?? throw new InvalidInputException(path, "name a .pt (PyTorch state dict), .safetensors or .onnx file, or give --format");
            if (ext is not null && ext != kind)
                throw new InvalidInputException("--format", $"{kind.TrimStart('.')} does not match the --out file's extension {ext}: name the file .{kind.TrimStart('.')} or leave --format out");
            if (File.Exists(path) || Directory.Exists(path))
                throw new InvalidInputException(path, "exists already; weights are never overwritten");
            var (manifest, net) = ModelPackage.Load(package, CliPlugins.Models);
            using (net)
            {
                Action<TorchSharp.torch.nn.Module, string> write = kind switch
                {
                    ".pt" => Weights.ExportPyTorch,
                    ".onnx" => (_, temp) => File.WriteAllBytes(temp, ToOnnx(net, manifest, package)),
                    _ => (n, temp) => Weights.SaveSafetensors(n, temp),
                };
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

    // the graph, run once against the net before it is written (a graph that computes something else is refused)
    private static byte[] ToOnnx(TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> net, ModelManifest manifest, string package)
    {
        var (onnx, session) = OnnxRuntimeNet.Verified(net, manifest, package);
        session.Dispose();
        return onnx;
    }

    private static Action<TorchSharp.torch.nn.Module, string> Reader(string path) => KnownExtension(path) switch
    {
        ".pt" => Weights.ImportPyTorch,
        ".safetensors" => Weights.LoadSafetensors,
        _ => throw new InvalidInputException(path, "name a .pt (PyTorch state dict) or .safetensors file"),
    };

    // .pt (or .pth), .safetensors or .onnx, lower case; null for any other extension
    private static string? KnownExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".pt" or ".pth" => ".pt",
        ".safetensors" => ".safetensors",
        ".onnx" => ".onnx",
        _ => null,
    };

    private static string FormatNamed(string format) => format.Trim().ToLowerInvariant() switch
    {
        "pt" or "pytorch" => ".pt",
        "safetensors" => ".safetensors",
        "onnx" => ".onnx",
        _ => throw new InvalidInputException("--format", $"'{format}' is not an export format: use pt, safetensors or onnx"),
    };

    private static void Report(bool json, Summary summary)
    {
        if (json) Console.Out.WriteLine(JsonSerializer.Serialize(summary, CliJson.Options));
        else Console.Out.WriteLine($"{summary.Architecture}: {summary.Tensors} tensors, {summary.Parameters:N0} parameters → {summary.Path}");
    }
}
