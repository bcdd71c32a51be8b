using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Serialization;
using Edu.Models.Checkpoints;
using Edu.Plugins;
using Edu.Training;
using Edu.V1;
using Edu.Worker.Configuration;
using Edu.Worker.Datasets;
using Edu.Worker.Errors;
using Microsoft.Extensions.Options;

namespace Edu.Worker.Jobs;

/// <summary>
/// Runs a job with <see cref="Trainer"/> (Edu.Training) on the worker's device, resuming from the run folder's
/// checkpoint when there is one, and publishes the finished package into the models folder as
/// <c>{model_name}/{model_version}/</c> (never over an existing package).
/// </summary>
public sealed class TrainerRunner : ITrainingRunner
{
    private readonly WorkerOptions _options;
    private readonly DatasetStore _datasets;
    private readonly PluginCatalog _plugins;
    private readonly ModelCatalogue _models;

    /// <summary>Creates the runner.</summary>
    public TrainerRunner(IOptions<WorkerOptions> options, DatasetStore datasets, PluginCatalog plugins, ModelCatalogue models)
    {
        _options = options.Value;
        _datasets = datasets;
        _plugins = plugins;
        _models = models;
    }

    /// <summary>The version a job's package gets when the request names none.</summary>
    public static string VersionOf(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return string.IsNullOrEmpty(job.Request.ModelVersion) ? job.Id : job.Request.ModelVersion;
    }

    /// <summary>The trainer's options for a request.</summary>
    public TrainingOptions OptionsFor(StartTrainingRequest r, bool resume)
    {
        ArgumentNullException.ThrowIfNull(r);
        var options = new TrainingOptions
        {
            Dataset = _datasets.Resolve(r.Dataset),
            Model = string.IsNullOrEmpty(r.Architecture) ? ModelCatalogue.DefaultModel : r.Architecture,
            Device = _options.Device,
            Resume = resume,
        };
        if (r.Epochs > 0) options = options with { Epochs = r.Epochs };
        if (r.BatchSize > 0) options = options with { BatchSize = r.BatchSize };
        if (r.PatchSize > 0) options = options with { PatchSize = r.PatchSize };
        if (r.BaseChannels > 0) options = options with { BaseChannels = r.BaseChannels };
        if (r.LearningRate > 0) options = options with { LearningRate = r.LearningRate };
        if (r.Seed != 0) options = options with { Seed = r.Seed };
        if (!string.IsNullOrEmpty(r.Precision)) options = options with { Precision = Precisions.Name(Precisions.Parse(r.Precision, "precision")) };
        foreach (var (key, value) in r.Options)
            options = ApplyOption(options, key, value);
        return options;
    }

    private static TrainingOptions ApplyOption(TrainingOptions o, string key, string value)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        int Int() => int.TryParse(value, System.Globalization.NumberStyles.Integer, inv, out int v) ? v : throw new InvalidInputException($"options.{key}", $"'{value}' is not an integer");
        double Real() => double.TryParse(value, System.Globalization.NumberStyles.Float, inv, out double v) ? v : throw new InvalidInputException($"options.{key}", $"'{value}' is not a number");
        bool Bool() => bool.TryParse(value, out bool v) ? v : throw new InvalidInputException($"options.{key}", $"'{value}' is not true or false");
        return key switch
        {
            "depth" => o with { Depth = Int() },
            "steps_per_epoch" => o with { StepsPerEpoch = Int() },
            "deep_supervision" => o with { DeepSupervision = Bool() },
            "optimizer" => o with { Optimizer = value },
            "weight_decay" => o with { WeightDecay = Real() },
            "schedule" => o with { Schedule = value },
            "loss" => o with { Loss = value },
            "slices" => o with { TrainOnSlices = Bool() },
            "validation_fraction" => o with { ValidationFraction = Real() },
            "patience" => o with { Patience = Int() },
            "threads" => o with { Threads = Int() },
            "memory_budget_mb" => o with { MemoryBudgetMb = Int() },
            "preprocessing" => o with { Preprocessing = value },
            _ => throw new InvalidInputException($"options.{key}", "is not a trainer option (known: depth, steps_per_epoch, deep_supervision, optimizer, weight_decay, schedule, loss, slices, validation_fraction, patience, threads, memory_budget_mb, preprocessing)"),
        };
    }

    /// <inheritdoc />
    public void Check(StartTrainingRequest request)
    {
        var options = OptionsFor(request, resume: false);
        // a job for a shared queue that only CUDA workers may claim is checked as one, whatever device this worker has
        if (request.Requirements?.DeviceKind == "cuda") options = options with { Device = "cuda" };
        NewTrainer().Check(options);
        PackageDirectory(request.ModelName, "1"); // the name alone must make a folder, whatever version the run gets
        if (!string.IsNullOrEmpty(request.ModelVersion) && Directory.Exists(PackageDirectory(request.ModelName, request.ModelVersion)))
            throw new ConflictException($"model '{request.ModelName}' version '{request.ModelVersion}' exists on this worker; choose another version", alreadyExists: true);
    }

    private Trainer NewTrainer() => new(_models, _plugins.PreprocessingSteps, id => _plugins.FindModality(id)?.DefaultPipeline);

    private string PackageDirectory(string name, string version)
    {
        foreach (var part in new[] { name, version })
            if (part.Length == 0 || part.Contains('/') || part.Contains('\\') || part is "." or ".." || part.Contains('\0'))
                throw new InvalidInputException("model_name/model_version", $"'{part}' cannot be a folder name");
        return Path.Combine(Path.GetFullPath(_options.ModelsPath), name, version);
    }

    /// <inheritdoc />
    public async Task<JobFinished> RunAsync(Job job, string runDirectory, Action<JobEvent> report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(report);
        bool resume = RunFolder.HasCheckpoint(runDirectory);
        if (!resume && Directory.Exists(runDirectory) && Directory.EnumerateFileSystemEntries(runDirectory).Any())
        {
            // interrupted before its first checkpoint: start the run over in a clean folder
            Directory.Delete(runDirectory, recursive: true);
            Directory.CreateDirectory(runDirectory);
        }
        var options = OptionsFor(job.Request, resume);
        var trainer = NewTrainer();
        var progress = new EventProgress(resume, options.Device, report);
        var result = await Task.Factory.StartNew(() => trainer.Run(options, runDirectory, progress, cancellationToken),
            cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);

        string version = VersionOf(job);
        string target = PackageDirectory(job.Request.ModelName, version);
        Publish(result.ModelDirectory, target, job.Request.ModelName, version);
        var finished = new JobFinished { ModelName = job.Request.ModelName, ModelVersion = version };
        finished.Metrics.Add("validation_dice", result.BestValidationDice);
        finished.Metrics.Add("best_epoch", result.BestEpoch);
        finished.Metrics.Add("epochs_run", result.EpochsRun);
        return finished;
    }

    private static JsonSerializerOptions ManifestJson => EduJson.Indented;

    private static void Publish(string package, string target, string name, string version)
    {
        if (Directory.Exists(target))
            throw new ConflictException($"model '{name}' version '{version}' exists on this worker; the trained package stays in {package}", alreadyExists: true);
        string staging = target + $".tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        foreach (var file in Directory.EnumerateFiles(package))
            File.Copy(file, Path.Combine(staging, Path.GetFileName(file)));
        string manifestPath = Path.Combine(staging, ModelPackage.ManifestFile);
        var manifest = ModelPackage.ReadManifest(staging) with { Name = name, Version = version };
        File.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest, ManifestJson));
        Directory.Move(staging, target);
    }

    /// <summary>Turns trainer events into job events (steps are not persisted: epochs, checkpoints and starts are).</summary>
    private sealed class EventProgress(bool resume, string device, Action<JobEvent> report) : IProgress<TrainingEvent>
    {
        private bool _started;

        public void Report(TrainingEvent e)
        {
            switch (e.Kind)
            {
                case TrainingEventKind.Started when !_started:
                    // the trainer reports Started while preparing and again when the first epoch begins: one job event
                    _started = true;
                    report(new JobEvent { Started = new JobStarted { Resumed = resume, StartEpoch = e.Epoch, Device = device } });
                    break;
                case TrainingEventKind.EpochEnd:
                    report(new JobEvent
                    {
                        Epoch = new EpochCompleted
                        {
                            Epoch = e.Epoch,
                            Epochs = e.Epochs,
                            TrainLoss = e.Loss ?? double.NaN,
                            ValidationDice = e.ValidationDice ?? double.NaN,
                            EtaSeconds = e.Eta?.TotalSeconds ?? 0,
                        },
                    });
                    break;
                case TrainingEventKind.CheckpointWritten:
                    report(new JobEvent { Checkpoint = new CheckpointSaved { Epoch = e.Epoch, Path = Path.GetFileName(e.Path ?? "") } });
                    break;
            }
        }
    }
}
