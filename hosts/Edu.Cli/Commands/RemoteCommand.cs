using System.CommandLine;
using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using System.Globalization;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Cli.Remote;
using Edu.Client;
using Edu.V1;
using Google.Protobuf;
using Spectre.Console;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu remote segment|train|jobs|watch|cancel --server URL [--api-key K] [--timeout S]</c>: a client of a worker
/// (<c>edu serve</c> or <c>edu-worker</c>). Progress goes to stderr; results and <c>--json</c> to stdout.
/// </summary>
public static class RemoteCommand
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var command = new Command("remote", "Use a worker over gRPC: segment images, train, list, watch and cancel jobs.");
        command.Subcommands.Add(SegmentCommand());
        command.Subcommands.Add(TrainCommand());
        command.Subcommands.Add(JobsCommand());
        command.Subcommands.Add(WatchCommand());
        command.Subcommands.Add(CancelCommand());
        return command;
    }

    private static Command SegmentCommand()
    {
        var remote = new RemoteOptions();
        var inputs = new Argument<string[]>("INPUT") { Description = "One image file, or the DICOM files (or one folder) of one series.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string>("--model") { Description = "Model package name on the worker.", Required = true };
        var version = new Option<string?>("--version") { Description = "Package version (default: the newest)." };
        var modality = new Option<string?>("--modality") { Description = "Modality id; must match the model's." };
        var outputs = new Option<string>("--outputs") { Description = "Result files: any of nifti, png, overlay, dicom-seg (comma-separated; dicom-seg for DICOM uploads).", DefaultValueFactory = _ => "nifti" };
        var tta = new Option<bool>("--tta") { Description = "Test-time augmentation (flips)." };
        var series = new Option<string?>("--series") { Description = "SeriesInstanceUID when the files hold several series." };
        var output = new Option<string>("--out") { Description = "Folder for the result files (created; existing files are never overwritten).", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the result header as one JSON object." };
        var command = new Command("segment", "Upload an image to a worker, segment it, and save the result files.") { inputs, model, version, modality, outputs, tta, series, output, json };
        remote.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var files = ExpandInputs(parse.GetValue(inputs)!);
            var header = new SegmentHeader
            {
                Model = parse.GetValue(model)!,
                Version = parse.GetValue(version) ?? "",
                Modality = parse.GetValue(modality) ?? "",
                SeriesInstanceUid = parse.GetValue(series) ?? "",
                Options = new SegmentOptions { Tta = parse.GetValue(tta) },
            };
            header.Outputs.AddRange(ParseOutputs(parse.GetValue(outputs)!));
            string outDir = Path.GetFullPath(parse.GetValue(output)!);
            using var c = remote.Connect(parse);
            var result = await RemoteErrors.Call(c.Server, () => RunSegment(c.Invoker, header, files, outDir, c.Deadline, ct)).ConfigureAwait(false);
            if (parse.GetValue(json))
                Console.Out.WriteLine(Json.Format(result));
            else
            {
                Console.Out.WriteLine($"{result.Model} {result.Version}: size {string.Join(" × ", result.Geometry.Size)}");
                foreach (var l in result.Labels)
                    Console.Out.WriteLine($"  {l.Value,3} {l.Name,-20} {l.Voxels,12} voxels {l.VolumeMl.ToString("0.###", CultureInfo.InvariantCulture),12} ml");
                foreach (var f in result.Files)
                    Console.Out.WriteLine($"  wrote {Path.Combine(outDir, f)}");
            }
            return CliApp.Ok;
        });
        return command;
    }

    private static async Task<SegmentResult> RunSegment(Grpc.Core.CallInvoker invoker, SegmentHeader header, IReadOnlyList<string> files,
        string outDir, DateTime deadline, CancellationToken ct)
    {
        foreach (var name in header.Outputs.Select(FileName))
            if (File.Exists(Path.Combine(outDir, name)))
                throw new InvalidInputException(Path.Combine(outDir, name), "exists; refusing to overwrite it (choose another --out)");
        Directory.CreateDirectory(outDir);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        SegmentOutcome? outcome = null;
        await console.Progress().AutoClear(false).StartAsync(async progress =>
        {
            var upload = progress.AddTask("upload", maxValue: 1);
            var infer = progress.AddTask("inference", maxValue: 1);
            var report = new Reporter(p =>
            {
                switch (p.Stage)
                {
                    case "upload":
                        upload.Description = "upload";
                        upload.Value = p.Fraction;
                        break;
                    case "inference":
                        infer.Value = p.Fraction;
                        break;
                    case "busy": // the worker turned this try away; the client waits its hint (with jitter) and uploads again
                        upload.Description = string.Create(CultureInfo.InvariantCulture, $"worker busy, try {p.Attempt + 1} in {p.RetryIn!.Value.TotalSeconds:0.0} s");
                        upload.Value = 0;
                        break;
                }
            });
            // result files are created new: never over a file the user has
            outcome = await new SegmentClient(invoker).SegmentAsync(header, files, name => new FileStream(Path.Combine(outDir, name), FileMode.CreateNew),
                deadline, report, ct).ConfigureAwait(false);
            upload.Value = upload.MaxValue;
            infer.Value = infer.MaxValue;
        }).ConfigureAwait(false);
        return outcome!.Result;
    }

    /// <summary>An <see cref="IProgress{T}"/> that reports at once on the reporting thread (a pool thread); the progress bars are thread-safe.</summary>
    private sealed class Reporter(Action<SegmentProgress> report) : IProgress<SegmentProgress>
    {
        public void Report(SegmentProgress value) => report(value);
    }

    private static string FileName(OutputKind kind) => kind switch
    {
        OutputKind.Nifti => "labels.nii.gz",
        OutputKind.PngMask => "mask.png",
        OutputKind.DicomSeg => "segmentation.dcm",
        _ => "overlay.png",
    };

    private static List<OutputKind> ParseOutputs(string text)
    {
        var kinds = new List<OutputKind>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            kinds.Add(part.ToLowerInvariant() switch
            {
                "nifti" => OutputKind.Nifti,
                "png" => OutputKind.PngMask,
                "overlay" => OutputKind.Overlay,
                "dicom-seg" => OutputKind.DicomSeg,
                _ => throw new InvalidInputException("--outputs", $"'{part}' is not an output; use nifti, png, overlay, dicom-seg"),
            });
        return [.. kinds.Distinct()];
    }

    private static List<string> ExpandInputs(string[] inputs)
    {
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input)) files.AddRange(Directory.EnumerateFiles(input).Order(StringComparer.Ordinal));
            else if (File.Exists(input)) files.Add(input);
            else throw new InvalidInputException(input, "no such file or folder");
        }
        if (files.Count == 0) throw new InvalidInputException(string.Join(" ", inputs), "holds no files");
        if (files.Select(Path.GetFileName).Distinct(StringComparer.Ordinal).Count() != files.Count)
            throw new InvalidInputException("INPUT", "two inputs have the same file name; the worker receives plain file names");
        return files;
    }

    private static Command TrainCommand()
    {
        var remote = new RemoteOptions();
        var dataset = new Option<string>("--dataset") { Description = "A dataset on the worker (an uploaded name or an absolute path), or with --upload a local folder.", Required = true };
        var upload = new Option<string?>("--upload") { Description = "Upload the local --dataset folder first under this name." };
        var name = new Option<string>("--model-name") { Description = "Name of the model package the job produces.", Required = true };
        var version = new Option<string?>("--model-version") { Description = "Its version (default: the job id)." };
        var model = new Option<string>("--model") { Description = "Network: unet, attention-unet, unet-mde, attention-unet-mde, unetpp, edu, edu-dense, edu-lean.", DefaultValueFactory = _ => ModelCatalogue.DefaultModel };
        var epochs = new Option<int>("--epochs") { Description = "Epochs (0: the trainer's default)." };
        var batch = new Option<int>("--batch") { Description = "Batch size (0: default)." };
        var patch = new Option<int>("--patch") { Description = "Patch edge in voxels (0: default)." };
        var baseChannels = new Option<int>("--base") { Description = "Base channels (0: default)." };
        var lr = new Option<double>("--lr") { Description = "Learning rate (0: default)." };
        var seed = new Option<int>("--seed") { Description = "Seed." };
        var precision = new Option<string?>("--precision") { Description = "fp32 (default), bf16 or fp16 (see `edu train --help`); the worker checks it against its device." };
        var set = new Option<string[]>("--set") { Description = "More trainer options as key=value (depth, steps_per_epoch, loss, ...).", AllowMultipleArgumentsPerToken = false };
        var requireDevice = new Option<string?>("--require-device") { Description = "Only a worker with this device kind may run it: cpu or cuda (a shared queue)." };
        var requireMemory = new Option<long>("--require-memory-mb") { Description = "Only a worker whose device has this much memory (MiB) may run it." };
        var watch = new Option<bool>("--watch") { Description = "Follow the job's events until it ends." };
        var json = new Option<bool>("--json") { Description = "Print the job (and events with --watch) as JSON lines." };
        var command = new Command("train", "Queue a training job on a worker.") { dataset, upload, name, version, model, epochs, batch, patch, baseChannels, lr, seed, precision, set, requireDevice, requireMemory, watch, json };
        remote.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            // a value no worker knows is refused here, before anything is uploaded; whether the device runs it, the worker says
            string precisionName = parse.GetValue(precision) is { } p ? Precisions.Name(Precisions.Parse(p)) : "";
            using var c = remote.Connect(parse);
            var client = new TrainingService.TrainingServiceClient(c.Invoker);
            string datasetName = parse.GetValue(dataset)!;
            if (parse.GetValue(upload) is { } uploadName)
            {
                var uploaded = await RemoteErrors.Call(c.Server, () => UploadDataset(client, uploadName, datasetName, c.Deadline, ct)).ConfigureAwait(false);
                Console.Error.WriteLine($"uploaded {uploaded.Files} files ({uploaded.Bytes} bytes) as dataset '{uploaded.Name}'");
                datasetName = uploaded.Name;
            }
            var request = new StartTrainingRequest
            {
                Dataset = datasetName,
                ModelName = parse.GetValue(name)!,
                ModelVersion = parse.GetValue(version) ?? "",
                Architecture = parse.GetValue(model)!,
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batch),
                PatchSize = parse.GetValue(patch),
                BaseChannels = parse.GetValue(baseChannels),
                LearningRate = parse.GetValue(lr),
                Seed = parse.GetValue(seed),
                Precision = precisionName,
            };
            foreach (var kv in parse.GetValue(set) ?? [])
            {
                int eq = kv.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) throw new InvalidInputException("--set", $"'{kv}' is not key=value");
                request.Options[kv[..eq]] = kv[(eq + 1)..];
            }
            string? device = parse.GetValue(requireDevice);
            if (device is not null && device is not ("cpu" or "cuda")) throw new InvalidInputException("--require-device", $"'{device}' is neither cpu nor cuda");
            if (parse.GetValue(requireMemory) < 0) throw new InvalidInputException("--require-memory-mb", "give 0 or more MiB");
            if (device is not null || parse.GetValue(requireMemory) > 0)
                request.Requirements = new JobRequirements { DeviceKind = device ?? "", MinMemoryMb = parse.GetValue(requireMemory) };
            var job = await RemoteErrors.Call(c.Server, async () => await client.StartTrainingAsync(request, deadline: c.Deadline, cancellationToken: ct)).ConfigureAwait(false);
            Console.Out.WriteLine(parse.GetValue(json) ? Json.Format(job) : $"{job.Id} {StateText(job.State)}");
            return parse.GetValue(watch) ? await Watch(client, c, job.Id, parse.GetValue(json), ct).ConfigureAwait(false) : CliApp.Ok;
        });
        return command;
    }

    private static async Task<UploadDatasetResponse> UploadDataset(TrainingService.TrainingServiceClient client, string name, string folder, DateTime deadline, CancellationToken ct)
    {
        if (!Directory.Exists(folder)) throw new InvalidInputException(folder, "no such folder to upload");
        using var call = client.UploadDataset(deadline: deadline, cancellationToken: ct);
        try
        {
            await call.RequestStream.WriteAsync(new UploadDatasetRequest { Header = new DatasetHeader { Name = name } }, ct).ConfigureAwait(false);
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                await foreach (var chunk in FileChunks.ReadAsync(file, Path.GetRelativePath(folder, file).Replace('\\', '/'), FileChunks.DefaultChunkBytes, ct).ConfigureAwait(false))
                    await call.RequestStream.WriteAsync(new UploadDatasetRequest { Chunk = chunk }, ct).ConfigureAwait(false);
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or InvalidOperationException)
        {
            // the worker ended the call early: its status comes with the response
        }
        return await call.ResponseAsync.ConfigureAwait(false);
    }

    private static Command JobsCommand()
    {
        var remote = new RemoteOptions();
        var json = new Option<bool>("--json") { Description = "Print one JSON object with every job." };
        var command = new Command("jobs", "List a worker's training jobs, newest first.") { json };
        remote.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var c = remote.Connect(parse);
            var client = new TrainingService.TrainingServiceClient(c.Invoker);
            var jobs = await RemoteErrors.Call(c.Server, async () => await client.ListJobsAsync(new ListJobsRequest(), deadline: c.Deadline, cancellationToken: ct)).ConfigureAwait(false);
            if (parse.GetValue(json))
                Console.Out.WriteLine(Json.Format(jobs));
            else
                foreach (var j in jobs.Jobs)
                    Console.Out.WriteLine($"{j.Id}  {StateText(j.State),-9}  {j.Request.ModelName,-20} epoch {j.Epoch,-4} worker {(j.Worker.Length == 0 ? "-" : j.Worker)} (attempt {j.Attempts}, resumed {j.Resumes}×)  {j.Reason}");
            return CliApp.Ok;
        });
        return command;
    }

    private static Command WatchCommand()
    {
        var remote = new RemoteOptions();
        var id = new Argument<string>("JOB") { Description = "The job id." };
        var json = new Option<bool>("--json") { Description = "Print each event as one JSON line." };
        var command = new Command("watch", "Follow a job's events until it ends; exit 0 when it succeeded.") { id, json };
        remote.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var c = remote.Connect(parse);
            return await Watch(new TrainingService.TrainingServiceClient(c.Invoker), c, parse.GetValue(id)!, parse.GetValue(json), ct).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CancelCommand()
    {
        var remote = new RemoteOptions();
        var id = new Argument<string>("JOB") { Description = "The job id." };
        var command = new Command("cancel", "Cancel a queued or running job.") { id };
        remote.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var c = remote.Connect(parse);
            var client = new TrainingService.TrainingServiceClient(c.Invoker);
            var job = await RemoteErrors.Call(c.Server, async () => await client.CancelJobAsync(new JobRequest { JobId = parse.GetValue(id)! }, deadline: c.Deadline, cancellationToken: ct)).ConfigureAwait(false);
            Console.Out.WriteLine($"{job.Id} {StateText(job.State)}{(job.State == JobState.Running ? " (cancelling)" : "")}");
            return CliApp.Ok;
        });
        return command;
    }

    private static async Task<int> Watch(TrainingService.TrainingServiceClient client, RemoteOptions.Connection c, string jobId, bool json, CancellationToken ct)
    {
        var last = await RemoteErrors.Call(c.Server, async () =>
        {
            using var call = client.WatchJob(new WatchJobRequest { JobId = jobId }, deadline: c.Deadline, cancellationToken: ct);
            JobEvent? final = null;
            while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            {
                var e = call.ResponseStream.Current;
                final = e;
                Console.Out.WriteLine(json ? Json.Format(e) : Describe(e));
            }
            return final;
        }).ConfigureAwait(false);
        return last?.EventCase == JobEvent.EventOneofCase.Finished ? CliApp.Ok : CliApp.Failed;
    }

    private static string Describe(JobEvent e)
    {
        var inv = CultureInfo.InvariantCulture;
        return e.EventCase switch
        {
            JobEvent.EventOneofCase.Queued => $"queued (position {e.Queued.Position})",
            JobEvent.EventOneofCase.Started => e.Started.Resumed ? $"resumed on {e.Started.Device}" : $"started on {e.Started.Device}",
            JobEvent.EventOneofCase.Epoch => string.Create(inv, $"epoch {e.Epoch.Epoch}/{e.Epoch.Epochs}  loss {e.Epoch.TrainLoss:0.####}  dice {e.Epoch.ValidationDice:0.####}  eta {TimeSpan.FromSeconds(Math.Round(e.Epoch.EtaSeconds))}"),
            JobEvent.EventOneofCase.Checkpoint => e.Checkpoint.Path == "best"
                ? $"best weights so far, epoch {e.Checkpoint.Epoch}"
                : $"checkpoint ({e.Checkpoint.Path}) after epoch {e.Checkpoint.Epoch}",
            JobEvent.EventOneofCase.Finished => $"finished: model {e.Finished.ModelName} {e.Finished.ModelVersion} " +
                string.Join(" ", e.Finished.Metrics.Select(m => string.Create(inv, $"{m.Key}={m.Value:0.####}"))),
            JobEvent.EventOneofCase.Failed => $"failed: {e.Failed.Reason}",
            JobEvent.EventOneofCase.Cancelled => $"cancelled: {e.Cancelled.Reason}",
            _ => e.EventCase.ToString(),
        };
    }

    private static string StateText(JobState state) => state.ToString().ToLowerInvariant();
}
