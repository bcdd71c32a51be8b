using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Serialization;
using Edu.Cli.Training;
using Edu.Models.Benchmarks;
using Edu.Training;
using Edu.Cli.Hosting;
using Edu.Imaging;
using Edu.Training.Datasets;
using Spectre.Console;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu bench converge --models unet,unetpp,attention-unet,edu,unet-mde --dataset DIR [--target 0.8] [--epochs N] ...</c>:
/// trains each model on the same data with the same seed and options, one child process per model (so peak RSS is
/// that model's), and reports epochs and seconds to reach the validation-Dice target, ATS (median ms per training
/// step), PMU (peak RSS, MiB) and final/best Dice, as a table, <c>converge.json</c> and a <c>converge.png</c> chart.
/// </summary>
public static class BenchConvergeCommand
{
    private sealed record Row(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("parameters")] long Parameters,
        [property: JsonPropertyName("epochs_to_target")] int? EpochsToTarget,
        [property: JsonPropertyName("seconds_to_target")] double? SecondsToTarget,
        [property: JsonPropertyName("ats_ms")] double AtsMs,
        [property: JsonPropertyName("pmu_mb")] double PmuMb,
        [property: JsonPropertyName("final_dice")] double FinalDice,
        [property: JsonPropertyName("best_dice")] double BestDice,
        [property: JsonPropertyName("run")] string Run);

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var models = new Option<string>("--models") { Description = "Comma-separated nets.", DefaultValueFactory = _ => "unet,unetpp,attention-unet,edu,unet-mde" };
        var dataset = new Option<string>("--dataset") { Description = "Dataset folder.", Required = true };
        var target = new Option<double>("--target") { Description = "Validation Dice to reach.", DefaultValueFactory = _ => 0.8 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per model.", DefaultValueFactory = _ => 20 };
        var steps = new Option<int?>("--steps") { Description = "Steps per epoch (default: one pass)." };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 4 };
        var baseChannels = new Option<int?>("--base") { Description = "Base width." };
        var depth = new Option<int>("--depth") { Description = "Depth.", DefaultValueFactory = _ => 4 };
        var lr = new Option<double>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 1e-3 };
        var seed = new Option<int>("--seed") { Description = "Seed (the same for every model).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "LibTorch threads.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var patch = new Option<int?>("--patch") { Description = "Patch edge in voxels (default as in edu train)." };
        var slices = new Option<bool>("--slices") { Description = "Train 2-D nets on the slices of 3-D volumes." };
        var preprocessing = new Option<string?>("--preprocessing") { Description = "Pipeline text (default as in edu train)." };
        var output = new Option<string?>("--out") { Description = "New or empty folder for the runs, converge.json and converge.png (default runs/converge-<timestamp>)." };
        var json = new Option<bool>("--json") { Description = "Print the results as one JSON array (the last stdout line)." };
        var command = new Command("converge", "Epochs and seconds to a validation-Dice target, ATS, PMU and final Dice per model; same data, same seed.")
        {
            models, dataset, target, epochs, steps, batch, baseChannels, depth, lr, seed, threads, device, patch, slices, preprocessing, output, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var names = parse.GetValue(models)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Length == 0) throw new InvalidInputException("--models", "name at least one model");
            double goal = parse.GetValue(target);
            if (goal is <= 0 or > 1) throw new InvalidInputException("--target", $"{goal}: use a Dice between 0 and 1");
            var options = new TrainingOptions
            {
                Dataset = Path.GetFullPath(parse.GetValue(dataset)!),
                Epochs = parse.GetValue(epochs),
                StepsPerEpoch = parse.GetValue(steps),
                BatchSize = parse.GetValue(batch),
                BaseChannels = parse.GetValue(baseChannels),
                Depth = parse.GetValue(depth),
                LearningRate = parse.GetValue(lr),
                Seed = parse.GetValue(seed),
                Threads = parse.GetValue(threads),
                Device = parse.GetValue(device)!,
                PatchSize = parse.GetValue(patch),
                TrainOnSlices = parse.GetValue(slices),
                Preprocessing = parse.GetValue(preprocessing),
            };
            // bad options, an unknown net and a dataset that does not open are refused here, once, before any output
            // folder or child process exists
            var check = new ConvergenceTrainer(goal);
            foreach (string name in names) check.Check(options with { Model = name });
            SegmentationDataset.Open(options.Dataset, ImageReaderRegistry.CreateDefault(CliPlugins.Catalog.Readers));
            string outDir = Folder(parse.GetValue(output));
            if (names.Length == 1 && Environment.GetEnvironmentVariable(ChildVariable) == "1")
            {
                // child mode: one model in this process, one JSON line
                var row = RunOne(names[0], options, goal, Path.Combine(outDir, names[0]), cancellationToken);
                Console.Out.WriteLine(JsonSerializer.Serialize(row, CliJson.Options));
                return Task.FromResult(CliApp.Ok);
            }
            var rows = new List<Row>();
            var failures = new List<string>();
            foreach (string name in names)
            {
                if (!parse.GetValue(json)) Console.Out.WriteLine($"training {name} ...");
                try { rows.Add(RunChild(name, parse.Tokens.Select(t => t.Value).ToList(), outDir, cancellationToken)); }
                catch (ConvergenceFailedException e)
                {
                    // the other nets still run; the comparison is incomplete, so it is not written as converge.json
                    failures.Add(e.Message);
                    Console.Error.WriteLine($"error: {e.Message}");
                }
            }
            if (failures.Count > 0)
            {
                File.WriteAllText(Path.Combine(outDir, "converge-partial.json"), JsonSerializer.Serialize(rows, EduJson.Indented));
                throw new ConvergenceFailedException($"{failures.Count} of {names.Length} nets failed ({string.Join("; ", failures.Select(f => f.Split(':')[0]))}); "
                    + $"the others are in {Path.Combine(outDir, "converge-partial.json")}");
            }
            File.WriteAllText(Path.Combine(outDir, "converge.json"), JsonSerializer.Serialize(rows, EduJson.Indented));
            Chart(rows, Path.Combine(outDir, "converge.png"), goal);
            if (parse.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(rows, CliJson.Options));
            else
            {
                var table = new Table().AddColumns("model", "parameters", $"epochs to {goal:F2}", "seconds to target", "ATS ms", "PMU MiB", "final Dice", "best Dice");
                foreach (var r in rows)
                    table.AddRow(r.Model, r.Parameters.ToString("N0", CultureInfo.InvariantCulture), r.EpochsToTarget?.ToString(CultureInfo.InvariantCulture) ?? "not reached",
                        r.SecondsToTarget is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) : "-", r.AtsMs.ToString("F1", CultureInfo.InvariantCulture),
                        r.PmuMb.ToString("F0", CultureInfo.InvariantCulture), r.FinalDice.ToString("F4", CultureInfo.InvariantCulture), r.BestDice.ToString("F4", CultureInfo.InvariantCulture));
                AnsiConsole.Write(table);
                Console.Out.WriteLine($"chart: {Path.Combine(outDir, "converge.png")}   results: {Path.Combine(outDir, "converge.json")}");
            }
            return Task.FromResult(CliApp.Ok);
        });
        return command;
    }

    private const string ChildVariable = "EDU_CONVERGE_CHILD";

    private static Row RunOne(string model, TrainingOptions options, double goal, string run, CancellationToken cancellationToken)
    {
        var trainer = new ConvergenceTrainer(goal);
        var result = trainer.Run(options with { Model = model }, run, null, cancellationToken);
        return new Row(model, trainer.Parameters, trainer.EpochsToTarget, trainer.SecondsToTarget is { } s ? Math.Round(s, 2) : null,
            Math.Round(trainer.MedianStepMs, 2), ProcessMemory.PeakRssMb(), result.History[^1].ValidationDice, result.BestValidationDice, run);
    }

    private static Row RunChild(string model, List<string> tokens, string outDir, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string entry = typeof(BenchConvergeCommand).Assembly.Location;
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") info.ArgumentList.Add(entry);
        info.ArgumentList.Add("bench");
        info.ArgumentList.Add("converge");
        // the same options, with this one model, this output folder and JSON
        for (int i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] is "--models" or "--out") { i++; continue; }
            if (tokens[i] is "--json" or "bench" or "converge") continue; // flags such as --slices pass through
            info.ArgumentList.Add(tokens[i]);
        }
        foreach (string a in (string[])["--models", model, "--out", outDir]) info.ArgumentList.Add(a);
        info.Environment[ChildVariable] = "1";
        using var process = Process.Start(info)!;
        using var reg = cancellationToken.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } });
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        cancellationToken.ThrowIfCancellationRequested();
        if (process.ExitCode == CliApp.BadInput)
            throw new InvalidInputException(model, stderr.Result.Trim().Replace("error: ", "", StringComparison.Ordinal));
        if (process.ExitCode != 0)
            throw new ConvergenceFailedException($"training {model} failed (exit {process.ExitCode}): {stderr.Result.Trim()}");
        string? last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (last is null) throw new ConvergenceFailedException($"training {model} printed no result");
        return JsonSerializer.Deserialize<Row>(last, CliJson.Options) ?? throw new ConvergenceFailedException($"training {model} printed no result");
    }

    private static void Chart(List<Row> rows, string path, double goal)
    {
        var plot = new ScottPlot.Plot();
        foreach (var r in rows)
        {
            var log = File.ReadAllLines(Path.Combine(r.Run, RunFolder.Log)).Select(l => JsonSerializer.Deserialize<EpochSummary>(l, CliJson.Options)!).ToList();
            var s = plot.Add.Scatter(log.Select(e => (double)e.Epoch).ToArray(), log.Select(e => e.ValidationDice).ToArray());
            s.LegendText = r.Model;
        }
        var line = plot.Add.HorizontalLine(goal);
        line.LinePattern = ScottPlot.LinePattern.Dashed;
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Axes.Left.Label.Text = "validation Dice";
        plot.Title("Convergence (same data, same seed)");
        plot.ShowLegend();
        plot.SavePng(path, 900, 550);
    }

    private static string Folder(string? given)
    {
        string full = Path.GetFullPath(given ?? Path.Combine("runs", "converge-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));
        if (Environment.GetEnvironmentVariable(ChildVariable) != "1" && Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new InvalidInputException(full, "the folder is not empty; refusing to overwrite it (choose a new or empty folder)");
        Directory.CreateDirectory(full);
        return full;
    }
}
