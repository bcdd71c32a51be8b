using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Models.Benchmarks;
using Edu.Models.Catalogue;
using Edu.Models.Runtime;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu bench parity --devices cpu,cuda [--model unet] [--dims 2] [--batch 2] [--size 64] [--steps 3] [--seed 0] [--json]</c>:
/// the same seeded training steps on each device (same initial weights, same batches), per-step losses, the largest loss
/// difference and the agreement of the final masks. Exit 0 when the devices agree within the tolerances, 1 when not.
/// </summary>
public static class BenchParityCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var devices = new Option<string>("--devices") { Description = "Comma-separated devices to compare, the first is the reference: cpu,cuda (cpu,cpu is the control).", DefaultValueFactory = _ => "cpu,cuda" };
        var model = new Option<string>("--model") { Description = "Catalogue name (see `edu models`).", DefaultValueFactory = _ => "unet" };
        var dims = new Option<int>("--dims") { Description = "2 or 3.", DefaultValueFactory = _ => 2 };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 2 };
        var size = new Option<int>("--size") { Description = "Edge length of the square/cubic input (divisible by 16).", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Training steps on each device.", DefaultValueFactory = _ => 3 };
        var seed = new Option<long>("--seed") { Description = "Seed of the initial weights and of the batches.", DefaultValueFactory = _ => 0 };
        var baseChannels = new Option<int?>("--base") { Description = "Base width (default 32 in 2-D, 16 in 3-D)." };
        var threads = new Option<int>("--threads") { Description = "Intra-op CPU threads.", DefaultValueFactory = _ => 2 };
        var lossTolerance = new Option<double>("--loss-tolerance") { Description = "Largest allowed difference of the first losses.", DefaultValueFactory = _ => 1e-3 };
        var maskTolerance = new Option<double>("--mask-tolerance") { Description = "Largest allowed fraction of differing mask voxels.", DefaultValueFactory = _ => 1e-3 };
        var tf32 = new Option<bool>("--tf32") { Description = "Let CUDA use TF32 for float32 convolutions and matmuls (off by default: the check compares float32 with float32)." };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object (the last stdout line)." };
        var command = new Command("parity", "Train the same seeded steps on several devices (CPU against CUDA) and compare losses and masks.")
        {
            devices, model, dims, batch, size, steps, seed, baseChannels, threads, lossTolerance, maskTolerance, tf32, json,
        };
        command.SetAction(parse =>
        {
            string name = parse.GetValue(model)!;
            int d = parse.GetValue(dims), b = parse.GetValue(batch), s = parse.GetValue(size), n = parse.GetValue(steps), t = parse.GetValue(threads);
            double lt = parse.GetValue(lossTolerance), mt = parse.GetValue(maskTolerance);
            if (ModelCatalogue.CreateBuiltIn().Find(name) is null)
                throw new InvalidInputException("--model", $"no model named '{name}'; known: {string.Join(", ", ModelCatalogue.BuiltInNames)}");
            if (d is not (2 or 3)) throw new InvalidInputException("--dims", $"{d} is not supported: use 2 or 3");
            if (b < 1) throw new InvalidInputException("--batch", "must be at least 1");
            if (s < 16 || s % 16 != 0) throw new InvalidInputException("--size", $"{s} must be a positive multiple of 16 (four 2× poolings)");
            if (n < 1) throw new InvalidInputException("--steps", "must be at least 1");
            if (t < 1) throw new InvalidInputException("--threads", "must be at least 1");
            if (!(lt >= 0)) throw new InvalidInputException("--loss-tolerance", "must not be negative");
            if (!(mt >= 0 && mt <= 1)) throw new InvalidInputException("--mask-tolerance", "must be between 0 and 1");
            string[] specs = parse.GetValue(devices)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (specs.Length < 2)
                throw new InvalidInputException("--devices", $"'{parse.GetValue(devices)}' names {specs.Length} device(s): give at least two, e.g. cpu,cuda");
            TorchRuntime.EnsureLoaded();
            var parsed = specs.Select(spec => DeviceSpec.Parse(spec, "--devices")).ToList();
            TorchSharp.torch.set_num_threads(t);
            var r = ParityBenchmark.Run(ModelCatalogue.CreateBuiltIn(), name, parsed, d, b, s, n, parse.GetValue(seed), parse.GetValue(baseChannels), lt, mt, parse.GetValue(tf32));
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(r, CliJson.Options));
            else
            {
                foreach (var run in r.Runs)
                    Console.Out.WriteLine($"{run.Device,-8} losses {string.Join(' ', run.Losses.Select(l => l.ToString("0.000000", CultureInfo.InvariantCulture)))}; " +
                                          $"max |Δloss| {run.MaxAbsLossDiff:G3}, mask differs in {run.MaskDifferingVoxels} of {run.MaskVoxels} voxels (Dice {run.MaskAgreementDice})");
                Console.Out.WriteLine($"{(r.Pass ? "PASS" : "FAIL")}: first losses within {r.MaxFirstLossAbsDiff:G3} (tolerance {r.LossTolerance}), " +
                                      $"masks differ in {r.MaxMaskDifferingFraction:P4} of voxels (tolerance {r.MaskTolerance:P4}); {r.Model} {r.Dims}-D batch {r.Batch} size {r.Size}, {r.Cpu}");
            }
            return r.Pass ? CliApp.Ok : CliApp.Failed;
        });
        return command;
    }
}
