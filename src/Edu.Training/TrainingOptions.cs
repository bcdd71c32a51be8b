using System.Text.Json.Serialization;
using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using Edu.Training.Augmentation;

namespace Edu.Training;

/// <summary>
/// Everything a training run needs, as data (written to <c>RUN/options.json</c> and read back on resume).
/// Defaults follow nnU-Net where it has one; <see cref="Validate"/> checks the values.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Dataset folder: nnU-Net v2 layout (<c>dataset.json</c>, <c>imagesTr</c>, <c>labelsTr</c>) or plain 2-D (<c>images</c>, <c>masks</c>).</summary>
    [JsonPropertyName("dataset")] public required string Dataset { get; init; }

    /// <summary>Catalogue name of the network (<c>unet</c>, <c>attention-unet</c>, <c>unet-mde</c>, <c>attention-unet-mde</c>, <c>unetpp</c>, <c>edu</c>, <c>edu-dense</c>, <c>edu-lean</c>).</summary>
    [JsonPropertyName("model")] public string Model { get; init; } = ModelCatalogue.DefaultModel;

    /// <summary>Base channel width (null: the spec's default, 32 in 2-D and 16 in 3-D).</summary>
    [JsonPropertyName("base_channels")] public int? BaseChannels { get; init; }

    /// <summary>Number of down-sampling levels.</summary>
    [JsonPropertyName("depth")] public int Depth { get; init; } = 4;

    /// <summary>Deep supervision (unetpp and edu only): the loss averages every head.</summary>
    [JsonPropertyName("deep_supervision")] public bool DeepSupervision { get; init; }

    /// <summary>Number of epochs.</summary>
    [JsonPropertyName("epochs")] public int Epochs { get; init; } = 50;

    /// <summary>Training steps per epoch (null: enough batches to see every training case once).</summary>
    [JsonPropertyName("steps_per_epoch")] public int? StepsPerEpoch { get; init; }

    /// <summary>Batch size.</summary>
    [JsonPropertyName("batch")] public int BatchSize { get; init; } = 4;

    /// <summary>Initial learning rate.</summary>
    [JsonPropertyName("lr")] public double LearningRate { get; init; } = 1e-3;

    /// <summary><c>adam</c> or <c>adamw</c>.</summary>
    [JsonPropertyName("optimizer")] public string Optimizer { get; init; } = "adam";

    /// <summary>Weight decay (AdamW's decoupled decay; Adam's L2 term).</summary>
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; }

    /// <summary>Learning-rate schedule per step: <c>poly</c> (lr·(1 − t)^0.9) or <c>cosine</c>.</summary>
    [JsonPropertyName("schedule")] public string Schedule { get; init; } = "poly";

    /// <summary><c>dice-ce</c> (BCE + Dice for one foreground label, CE + Dice otherwise) or <c>focal-tversky</c>.</summary>
    [JsonPropertyName("loss")] public string Loss { get; init; } = "dice-ce";

    /// <summary>Patch edge in voxels (null: the whole preprocessed 2-D image up to 256, 64 in 3-D), rounded up to a multiple of 2^depth.</summary>
    [JsonPropertyName("patch")] public int? PatchSize { get; init; }

    /// <summary>Train a 2-D network on the axial slices of 3-D volumes.</summary>
    [JsonPropertyName("slices")] public bool TrainOnSlices { get; init; }

    /// <summary>
    /// Memory for prepared cases in MiB (null: a quarter of the memory the process may use); cases beyond it go
    /// to memory-mapped files in the run's <c>cache/</c> folder. A setting of this machine, like the threads.
    /// </summary>
    [JsonPropertyName("memory_budget_mb")] public int? MemoryBudgetMb { get; init; }

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "cpu";

    /// <summary>
    /// Arithmetic of the training steps: <c>fp32</c>, <c>bf16</c> (forward pass under autocast in bfloat16, loss in float32) or
    /// <c>fp16</c> (autocast in float16 with dynamic loss scaling; CUDA, or CPUs with AVX512-FP16). Weights, gradients and the
    /// optimizer state stay float32, and so do validation and the model package. Kept on resume.
    /// </summary>
    [JsonPropertyName("precision")] public string Precision { get; init; } = "fp32";

    /// <summary>Seed of every random choice (weights, split, patches, augmentation).</summary>
    [JsonPropertyName("seed")] public int Seed { get; init; }

    /// <summary>Share of training cases held out for validation (split by case, at least one each side).</summary>
    [JsonPropertyName("validation_fraction")] public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Stop after this many epochs without a better validation Dice (null: never stop early).</summary>
    [JsonPropertyName("patience")] public int? Patience { get; init; }

    /// <summary>Intra-op threads for LibTorch (0: LibTorch's default).</summary>
    [JsonPropertyName("threads")] public int Threads { get; init; }

    /// <summary>Batches prepared ahead by the loader thread.</summary>
    [JsonPropertyName("prefetch")] public int PrefetchBatches { get; init; } = 4;

    /// <summary>
    /// Preprocessing pipeline text (e.g. <c>percentile(low=0.5, high=99.5)</c>); null: the one in dataset.json,
    /// else the modality's default, else <c>zscore</c> per channel (<c>percentile(low=0.5, high=99.5)</c> for RGB).
    /// </summary>
    [JsonPropertyName("preprocessing")] public string? Preprocessing { get; init; }

    /// <summary>Augmentation settings.</summary>
    [JsonPropertyName("augmentation")] public AugmentationOptions Augmentation { get; init; } = new();

    /// <summary>
    /// Wall-clock budget for training in seconds (null: none). When an epoch ends past it, training stops as with early
    /// stopping (for demos such as quickstart; a run stopped this way depends on machine speed).
    /// </summary>
    [JsonPropertyName("time_budget_seconds")] public double? TimeBudgetSeconds { get; init; }

    /// <summary>Continue the run in the run folder from its last checkpoint.</summary>
    [JsonPropertyName("resume")] public bool Resume { get; init; }

    /// <summary>Checks every value; a bad one is an <see cref="Edu.Abstractions.Errors.InvalidInputException"/> naming the option.</summary>
    public void Validate()
    {
        static void Check(bool ok, string option, string problem)
        {
            if (!ok) throw new Abstractions.Errors.InvalidInputException(option, problem);
        }
        Check(!string.IsNullOrWhiteSpace(Dataset), "--dataset", "a dataset folder is required");
        Check(Epochs >= 1, "--epochs", $"{Epochs}: at least 1");
        Check(StepsPerEpoch is null or >= 1, "--steps", $"{StepsPerEpoch}: at least 1");
        Check(BatchSize is >= 1 and <= 1024, "--batch", $"{BatchSize}: use 1 to 1024");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), "--lr", $"{LearningRate}: must be positive");
        Check(Optimizer is "adam" or "adamw", "--optimizer", $"'{Optimizer}': use adam or adamw");
        Check(Schedule is "poly" or "cosine", "--schedule", $"'{Schedule}': use poly or cosine");
        Check(Loss is "dice-ce" or "focal-tversky", "--loss", $"'{Loss}': use dice-ce or focal-tversky");
        Check(PatchSize is null or (>= 8 and <= 1024), "--patch", $"{PatchSize}: use 8 to 1024");
        Check(ValidationFraction is > 0 and < 1, "--val-fraction", $"{ValidationFraction}: use a value between 0 and 1");
        Check(Patience is null or >= 1, "--patience", $"{Patience}: at least 1");
        Check(Threads >= 0, "--threads", $"{Threads}: cannot be negative");
        Check(MemoryBudgetMb is null or >= 0, "--memory-budget-mb", $"{MemoryBudgetMb}: cannot be negative");
        Check(PrefetchBatches is >= 1 and <= 64, "--prefetch", $"{PrefetchBatches}: use 1 to 64");
        Check(Depth is >= 1 and <= 6, "--depth", $"{Depth}: use 1 to 6");
        Check(BaseChannels is null or (>= 1 and <= 256), "--base", $"{BaseChannels}: use 1 to 256");
        Check(TimeBudgetSeconds is null or > 0, "--time-budget", $"{TimeBudgetSeconds}: must be positive");
        Check(WeightDecay >= 0, "--weight-decay", $"{WeightDecay}: cannot be negative");
        Precisions.Parse(Precision);
    }
}
