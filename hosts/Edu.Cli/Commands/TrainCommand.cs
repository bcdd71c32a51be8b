using System.CommandLine;
using Edu.Models.Catalogue;
using System.Text.Json;
using Edu.Cli.Training;
using Edu.Training;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu train --dataset DIR --model NAME --out RUN [--epochs N] [--batch N] [--lr X] [--device D] [--precision fp32|bf16|fp16] [--patch P] [--seed S] [--resume] ...</c>:
/// trains a catalogue net into a run folder (model package, checkpoints, log.jsonl, curves.png, splits.json,
/// options.json). Refuses an existing non-empty RUN unless --resume is given, which continues from the last checkpoint.
/// </summary>
public static class TrainCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var dataset = new Option<string?>("--dataset") { Description = "Dataset folder (nnU-Net v2 layout, or images/ + masks/). Not needed with --resume." };
        var model = new Option<string>("--model") { Description = "Net from `edu models`.", DefaultValueFactory = _ => ModelCatalogue.DefaultModel };
        var output = new Option<string>("--out") { Description = "Run folder (new or empty; with --resume an existing run).", Required = true };
        var epochs = new Option<int>("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => 50 };
        var steps = new Option<int?>("--steps") { Description = "Steps per epoch (default: one pass over the training cases)." };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 4 };
        var lr = new Option<double>("--lr") { Description = "Initial learning rate.", DefaultValueFactory = _ => 1e-3 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var precision = new Option<string>("--precision")
        {
            Description = "Training arithmetic: fp32; bf16 (forward under autocast in bfloat16, float32 weights and loss); fp16 (autocast in float16 with dynamic loss scaling: CUDA, or CPUs with AVX512-FP16). A resumed run keeps its own.",
            DefaultValueFactory = _ => "fp32",
        };
        var patch = new Option<int?>("--patch") { Description = "Patch edge in voxels (default: whole 2-D image up to 256; 64 in 3-D)." };
        var seed = new Option<int>("--seed") { Description = "Seed of weights, split, patches and augmentation.", DefaultValueFactory = _ => 0 };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint." };
        var baseChannels = new Option<int?>("--base") { Description = "Base channel width (default 32 in 2-D, 16 in 3-D)." };
        var depth = new Option<int>("--depth") { Description = "Down-sampling levels.", DefaultValueFactory = _ => 4 };
        var optimizer = new Option<string>("--optimizer") { Description = "adam or adamw.", DefaultValueFactory = _ => "adam" };
        var schedule = new Option<string>("--schedule") { Description = "poly or cosine.", DefaultValueFactory = _ => "poly" };
        var loss = new Option<string>("--loss") { Description = "dice-ce or focal-tversky.", DefaultValueFactory = _ => "dice-ce" };
        var valFraction = new Option<double>("--val-fraction") { Description = "Share of cases held out for validation.", DefaultValueFactory = _ => 0.2 };
        var patience = new Option<int?>("--patience") { Description = "Stop after this many epochs without a better validation Dice." };
        var threads = new Option<int>("--threads") { Description = "LibTorch CPU threads (0: default).", DefaultValueFactory = _ => 0 };
        var memoryBudget = new Option<int?>("--memory-budget-mb")
        {
            Description = "Memory for prepared cases (default: a quarter of the memory available); the rest are memory-mapped from RUN/cache/.",
        };
        var preprocessing = new Option<string?>("--preprocessing") { Description = "Pipeline text, e.g. \"clip(min=-1000, max=400); zscore\" (default: dataset.json's, the modality's, or zscore)." };
        var slices = new Option<bool>("--slices") { Description = "Train a 2-D net on the slices of 3-D volumes." };
        var noAugment = new Option<bool>("--no-augment") { Description = "Turn augmentation off." };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object (the last stdout line)." };
        var command = new Command("train", "Train a segmentation net on a dataset into a run folder (resumable).")
        {
            dataset, model, output, epochs, steps, batch, lr, device, precision, patch, seed, resume, baseChannels, depth, optimizer, schedule, loss,
            valFraction, patience, threads, memoryBudget, preprocessing, slices, noAugment, json,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Execute(parse, cancellationToken)));
        return command;

        int Execute(ParseResult parse, CancellationToken cancellationToken)
        {
            string run = Path.GetFullPath(parse.GetValue(output)!);
            bool resuming = parse.GetValue(resume);
            string? data = parse.GetValue(dataset);
            if (data is null && !resuming) throw new Abstractions.Errors.InvalidInputException("--dataset", "a dataset folder is required (except with --resume)");
            var options = new TrainingOptions
            {
                Dataset = data ?? "(from the run)",
                Model = parse.GetValue(model)!,
                Epochs = parse.GetValue(epochs),
                StepsPerEpoch = parse.GetValue(steps),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                Device = parse.GetValue(device)!,
                Precision = parse.GetValue(precision)!,
                PatchSize = parse.GetValue(patch),
                Seed = parse.GetValue(seed),
                Resume = resuming,
                BaseChannels = parse.GetValue(baseChannels),
                Depth = parse.GetValue(depth),
                Optimizer = parse.GetValue(optimizer)!,
                Schedule = parse.GetValue(schedule)!,
                Loss = parse.GetValue(loss)!,
                ValidationFraction = parse.GetValue(valFraction),
                Patience = parse.GetValue(patience),
                Threads = parse.GetValue(threads),
                MemoryBudgetMb = parse.GetValue(memoryBudget),
                Preprocessing = parse.GetValue(preprocessing),
                TrainOnSlices = parse.GetValue(slices),
                Augmentation = parse.GetValue(noAugment) ? Edu.Training.Augmentation.AugmentationOptions.None : new(),
            };
            var result = TrainingHost.Run(TrainingHost.CreateTrainer(), options, run, cancellationToken);
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    run = result.RunDirectory, model = result.ModelDirectory, epochs = result.EpochsRun, best_epoch = result.BestEpoch,
                    val_dice = Math.Round(result.BestValidationDice, 4), stopped_early = result.StoppedEarly,
                }, CliJson.Options));
            else
                Console.Out.WriteLine($"Best validation Dice {result.BestValidationDice:F4} at epoch {result.BestEpoch}; model package: {result.ModelDirectory}");
            return CliApp.Ok;
        }
    }
}
