using System.CommandLine;
using Edu.Models.Catalogue;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Serialization;
using Edu.Cli.Training;
using Edu.Imaging.Rendering;
using Edu.Inference;
using Edu.Models.Runtime;
using Edu.Training;
using Edu.Training.Evaluation;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu quickstart [--out DIR]</c>: the first thing a new user runs. Writes a synthetic chest X-ray dataset (xray
/// plugin), trains E-DU on the CPU within a few minutes, evaluates it on held-out cases, writes overlays and training
/// curves, prints a short summary and, as the last stdout line, <c>{"dice","iou","model","seconds","out"}</c>.
/// Never overwrites: the default folder is <c>runs/quickstart-TIMESTAMP</c> and a given non-empty folder is refused.
/// </summary>
public static class QuickstartCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "New or empty folder (default: runs/quickstart-<timestamp>)." };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs (5 steps of 8 images each).", DefaultValueFactory = _ => 30 };
        var budget = new Option<double>("--time-budget") { Description = "Stop training after the epoch that passes this many seconds.", DefaultValueFactory = _ => 180 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var seed = new Option<int>("--seed") { Description = "Seed of data, weights and augmentation.", DefaultValueFactory = _ => 0 };
        var precision = new Option<string>("--precision") { Description = "Training arithmetic: fp32, bf16 or fp16 (see `edu train --help`).", DefaultValueFactory = _ => "fp32" };
        var command = new Command("quickstart", "Train E-DU on a synthetic chest X-ray dataset in a few minutes on the CPU, evaluate it, and write overlays.")
        {
            output, epochs, budget, device, seed, precision,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var clock = Stopwatch.StartNew();
            int n = parse.GetValue(epochs);
            if (n < 1) throw new InvalidInputException("--epochs", $"{n}: at least 1");
            // refused before anything is written
            var chosen = Precisions.Parse(parse.GetValue(precision));
            Precisions.CheckSupported(chosen, Precisions.DeviceTypeOf(parse.GetValue(device)!), CpuInfo.Current);
            string precisionName = Precisions.Name(chosen);
            string outDir = ChooseFolder(parse.GetValue(output));
            Console.Out.WriteLine($"Quickstart: writing to {outDir}");
            string data = Path.Combine(outDir, "data"), run = Path.Combine(outDir, "run"), overlays = Path.Combine(outDir, "overlays");
            QuickstartDataset.Write(data, training: 40, test: 10, size: 64, seed: 1000 + parse.GetValue(seed), cancellationToken);
            Console.Out.WriteLine("1/3 dataset: 40 training + 10 held-out synthetic chest X-rays (64 px; labels: left lung, right lung)");
            var options = new TrainingOptions
            {
                Dataset = data,
                Model = ModelCatalogue.DefaultModel,
                BaseChannels = 8,
                Depth = 3,
                Epochs = n,
                StepsPerEpoch = 5,
                BatchSize = 8,
                LearningRate = 3e-3,
                Seed = parse.GetValue(seed),
                ValidationFraction = 0.2,
                Device = parse.GetValue(device)!,
                TimeBudgetSeconds = parse.GetValue(budget),
                Precision = precisionName,
            };
            Console.Out.WriteLine($"2/3 training E-DU (base 8, depth 3) for up to {n} epochs on {options.Device} in {precisionName}");
            var result = TrainingHost.Run(TrainingHost.CreateTrainer(), options, run, cancellationToken);
            Directory.CreateDirectory(overlays);
            var report = Evaluator.Evaluate(run, data, new PredictorOptions { Device = options.Device }, onCase: (c, image, labels) =>
                OverlayRenderer.WritePng(image, labels, Path.Combine(overlays, c.Case + ".png"), cancellationToken: cancellationToken), cancellationToken: cancellationToken);
            File.WriteAllText(Path.Combine(outDir, "evaluation.json"), JsonSerializer.Serialize(report, EduJson.Indented));
            clock.Stop();
            Console.Out.WriteLine($"3/3 evaluated on {report.Cases.Count} held-out cases: Dice {report.Dice:F3}, IoU {report.IoU:F3}" +
                (report.Hd95 is { } h ? $", HD95 {h:F2} px" : "") + $" ({string.Join(", ", report.PerLabelDice.Select(p => $"{p.Key} {p.Value:F3}"))})");
            Console.Out.WriteLine($"Model package: {result.ModelDirectory}");
            Console.Out.WriteLine($"Curves: {Path.Combine(run, RunFolder.Curves)}   overlays: {overlays}   metrics: {Path.Combine(outDir, "evaluation.json")}");
            Console.Out.WriteLine($"Next: ./edu evaluate --model {run} --dataset {data}");
            Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["dice"] = Math.Round(report.Dice, 4),
                ["iou"] = Math.Round(report.IoU, 4),
                ["model"] = result.ModelDirectory,
                ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
                ["out"] = outDir,
            }, CliJson.Options));
            return Task.FromResult(CliApp.Ok);
        });
        return command;
    }

    private static string ChooseFolder(string? given)
    {
        if (given is not null)
        {
            string full = Path.GetFullPath(given);
            if (File.Exists(full)) throw new InvalidInputException(full, "is a file; --out must be a new or empty folder");
            if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
                throw new InvalidInputException(full, "the folder is not empty; refusing to overwrite it (choose a new or empty folder)");
            Directory.CreateDirectory(full);
            return full;
        }
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        for (int i = 1; ; i++)
        {
            string candidate = Path.GetFullPath(Path.Combine("runs", i == 1 ? $"quickstart-{stamp}" : $"quickstart-{stamp}-{i}"));
            if (!Directory.Exists(candidate) && !File.Exists(candidate))
            {
                Directory.CreateDirectory(candidate);
                return candidate;
            }
        }
    }
}
