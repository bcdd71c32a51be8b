using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Edu.Cli.Hosting;
using Edu.Imaging;
using Edu.Inference;
using Edu.Training.Evaluation;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu evaluate --model RUN|PACKAGE --dataset DIR [--device D] [--json]</c>: Dice, IoU and HD95 per case and label,
/// and their means, on imagesTs/labelsTs (or the run's validation split when the dataset has no held-out cases).
/// With <c>--json</c> stdout is one object (<see cref="EvaluationReport"/>).
/// </summary>
public static class EvaluateCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A run folder (its model/ package) or a model package folder.", Required = true };
        var dataset = new Option<string>("--dataset") { Description = "Dataset folder (nnU-Net v2 layout or images/ + masks/).", Required = true };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var tta = new Option<bool>("--tta") { Description = "Flip test-time augmentation." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with per-case and mean metrics." };
        var command = new Command("evaluate", "Score a trained model on a dataset's held-out cases: Dice, IoU, HD95 (mm) per case and label.")
        {
            model, dataset, device, tta, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            bool asJson = parse.GetValue(json);
            var report = Evaluator.Evaluate(parse.GetValue(model)!, parse.GetValue(dataset)!,
                new PredictorOptions { Device = parse.GetValue(device)!, FlipTta = parse.GetValue(tta) },
                CliPlugins.Catalog.PreprocessingSteps, ImageReaderRegistry.CreateDefault(CliPlugins.Catalog.Readers),
                asJson ? null : (c, _, _) => Console.Out.WriteLine(
                    $"{c.Case}: Dice {c.Dice:F4}  IoU {c.IoU:F4}  HD95 {(c.Hd95 is { } h ? h.ToString("F2", CultureInfo.InvariantCulture) + " mm" : "undefined")}"),
                cancellationToken, CliPlugins.Models);
            if (asJson) Console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            else
            {
                Console.Out.WriteLine($"{report.Cases.Count} {report.Source} cases: mean Dice {report.Dice:F4}, IoU {report.IoU:F4}, HD95 " +
                    (report.Hd95 is { } h ? $"{h:F2} mm" : "undefined") + (report.Hd95Undefined > 0 ? $" ({report.Hd95Undefined} label(s) with one side empty: HD95 undefined)" : ""));
                foreach (var (label, dice) in report.PerLabelDice) Console.Out.WriteLine($"  {label}: Dice {dice:F4}");
            }
            return Task.FromResult(CliApp.Ok);
        });
        return command;
    }
}
