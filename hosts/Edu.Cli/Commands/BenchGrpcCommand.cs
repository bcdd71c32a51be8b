using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Client;
using Edu.Imaging;
using Edu.Inference;
using Edu.Inference.Output;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using Edu.Plugins;
using Edu.V1;
using Edu.Worker;
using Edu.Worker.Metrics;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu bench grpc</c>: segmentation of one 2-D image through the worker (a real Kestrel on loopback and
/// a real gRPC client) against the same work in-process (read the PNG, predict, write the NIfTI labels),
/// then sustained requests per second with concurrent clients (<c>--clients 1,2,8,32,64</c> runs each in turn).
/// The clients are the library's <see cref="SegmentClient"/>: a busy answer is retried after the worker's hint with
/// jitter and counted, every other status is counted by its code, nothing is thrown. The model is an untrained
/// package of the chosen architecture (latency does not depend on the weights) unless <c>--package</c> names one.
/// </summary>
public static class BenchGrpcCommand
{
    /// <summary>The <c>--json</c> result (the last stdout line).</summary>
    public sealed record Result(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("size")] int Size,
        [property: JsonPropertyName("requests")] int Requests,
        [property: JsonPropertyName("in_process_ms")] double InProcessMs,
        [property: JsonPropertyName("grpc_ms")] double GrpcMs,
        [property: JsonPropertyName("overhead_percent")] double OverheadPercent,
        [property: JsonPropertyName("server_ms")] double ServerMs,
        [property: JsonPropertyName("server_stages_ms")] IReadOnlyDictionary<string, double> ServerStagesMs,
        [property: JsonPropertyName("clients")] int Clients,
        [property: JsonPropertyName("seconds")] double Seconds,
        [property: JsonPropertyName("completed")] int Completed,
        [property: JsonPropertyName("busy_replies")] int BusyReplies,
        [property: JsonPropertyName("requests_per_s")] double RequestsPerSecond,
        [property: JsonPropertyName("runs")] IReadOnlyList<ThroughputRun> Runs);

    /// <summary>One throughput run: <c>clients</c> concurrent clients for <c>seconds</c>.</summary>
    public sealed record ThroughputRun(
        [property: JsonPropertyName("clients")] int Clients,
        [property: JsonPropertyName("seconds")] double Seconds,
        [property: JsonPropertyName("completed")] int Completed,
        [property: JsonPropertyName("requests_per_s")] double RequestsPerSecond,
        [property: JsonPropertyName("p50_ms")] double P50Ms,
        [property: JsonPropertyName("p99_ms")] double P99Ms,
        [property: JsonPropertyName("busy_replies")] int BusyReplies,
        [property: JsonPropertyName("errors")] IReadOnlyDictionary<string, int> Errors,
        [property: JsonPropertyName("error_details")] IReadOnlyDictionary<string, string> ErrorDetails,
        [property: JsonPropertyName("rejected")] IReadOnlyDictionary<string, double> Rejected);

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Architecture (see `edu models`).", DefaultValueFactory = _ => ModelCatalogue.DefaultModel };
        var size = new Option<int>("--size") { Description = "Edge of the square grey image (divisible by 16).", DefaultValueFactory = _ => 256 };
        var baseChannels = new Option<int>("--base") { Description = "Base width of the model.", DefaultValueFactory = _ => 32 };
        var requests = new Option<int>("--requests") { Description = "Timed sequential requests per path (the median is reported).", DefaultValueFactory = _ => 10 };
        var clients = new Option<string>("--clients") { Description = "Concurrent clients for the throughput run; a list (1,2,8,32,64) runs each in turn.", DefaultValueFactory = _ => "8" };
        var package = new Option<string?>("--package") { Description = "Serve this model package (a package folder or a training run) instead of an untrained one." };
        var imageFile = new Option<string?>("--image") { Description = "Segment this 2-D image file instead of a synthetic grey square of --size." };
        var seconds = new Option<double>("--seconds") { Description = "Length of the throughput run.", DefaultValueFactory = _ => 30 };
        var json = new Option<bool>("--json") { Description = "End with one JSON line." };
        var command = new Command("grpc", "Time gRPC segmentation of one image against the same work in-process, then requests per second with concurrent clients.")
        {
            model, size, baseChannels, requests, clients, seconds, package, imageFile, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            int n = parse.GetValue(size), b = parse.GetValue(baseChannels), r = parse.GetValue(requests);
            double s = parse.GetValue(seconds);
            var counts = new List<int>();
            foreach (string part in parse.GetValue(clients)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int c) || c < 1 || c > 256)
                    throw new InvalidInputException("--clients", $"'{part}' is not a number of clients between 1 and 256");
                counts.Add(c);
            }
            if (counts.Count == 0) throw new InvalidInputException("--clients", "no number of clients given");
            string? packageDir = parse.GetValue(package) is { } pk ? Path.GetFullPath(pk) : null;
            string? imagePath = parse.GetValue(imageFile) is { } im ? Path.GetFullPath(im) : null;
            if (imagePath is not null && !File.Exists(imagePath)) throw new InvalidInputException(imagePath, "no such image file");
            if (n < 16 || n > 2048 || n % 16 != 0) throw new InvalidInputException("--size", $"{n}: use a multiple of 16 between 16 and 2048");
            if (b < 2 || b > 64) throw new InvalidInputException("--base", $"{b} is outside 2…64");
            if (r < 1 || r > 1000) throw new InvalidInputException("--requests", $"{r} is outside 1…1000");
            if (!(s > 0 && s <= 3600)) throw new InvalidInputException("--seconds", $"{s} is outside (0, 3600]");
            var result = await RunAsync(parse.GetValue(model)!, n, b, r, counts, s, packageDir, imagePath, cancellationToken).ConfigureAwait(false);
            var culture = CultureInfo.InvariantCulture;
            Console.Out.WriteLine(string.Create(culture, $"{result.Model}, {(imagePath is null ? $"{n}×{n} grey PNG" : Path.GetFileName(imagePath))} → labels.nii.gz, median of {r}"));
            Console.Out.WriteLine(string.Create(culture, $"  in-process (read, predict, write)  {result.InProcessMs,8:0.0} ms"));
            Console.Out.WriteLine(string.Create(culture, $"  gRPC Segment over loopback         {result.GrpcMs,8:0.0} ms  ({result.OverheadPercent:+0.0;-0.0} %)"));
            string stages = string.Join(", ", result.ServerStagesMs.Select(kv => string.Create(culture, $"{kv.Key} {kv.Value:0.0}")));
            Console.Out.WriteLine(string.Create(culture, $"    of which in the worker           {result.ServerMs,8:0.0} ms  (mean ms per stage: {stages})"));
            foreach (var run in result.Runs)
                Console.Out.WriteLine(string.Create(culture,
                    $"  {run.Clients,3} clients for {run.Seconds:0} s: {run.Completed} done, {run.RequestsPerSecond:0.00} requests/s, p50 {run.P50Ms:0} ms, p99 {run.P99Ms:0} ms, " +
                    $"{run.BusyReplies} busy replies{(run.Rejected.Count > 0 ? $" ({string.Join(", ", run.Rejected.Select(kv => $"{kv.Key} {kv.Value:0}"))})" : "")}, " +
                    $"errors: {(run.Errors.Count == 0 ? "none" : string.Join(", ", run.Errors.Select(kv => $"{kv.Key} {kv.Value}")))}"));
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(result, CliJson.Options));
            return CliApp.Ok;
        });
        return command;
    }

    private static async Task<Result> RunAsync(string architecture, int size, int baseChannels, int requests, IReadOnlyList<int> clientCounts, double seconds,
        string? packageDir, string? imagePath, CancellationToken ct)
    {
        // the worker applies these at start; applied here before anything loads LibTorch, both paths run under them
        ServingTuning.Apply();
        string dir = Directory.CreateTempSubdirectory("edu-bench-grpc-").FullName;
        try
        {
            string models = Path.Combine(dir, "models");
            string package = packageDir is null
                ? WritePackage(Path.Combine(models, "bench", "1"), architecture, baseChannels)
                : CopyPackage(ModelPackageLocator.Resolve(packageDir), Path.Combine(models, "bench", "1"));
            if (packageDir is not null) architecture = ModelPackage.ReadManifest(package).Architecture;
            string image = imagePath ?? Path.Combine(dir, "image.png");
            if (imagePath is null) ImageWriterRegistry.CreateDefault().Write(SyntheticImage(size), image, ct);

            var app = WorkerHost.Build(["--urls", "http://127.0.0.1:0", $"--Worker:ModelsPath={models}",
                $"--Worker:DataPath={Path.Combine(dir, "data")}", "--Worker:Metrics=false", "--Logging:LogLevel:Default=Warning"]);
            await WorkerHost.StartAsync(app, ct).ConfigureAwait(false);
            try
            {
                using var predictor = Predictor.Load(package, customSteps: PluginCatalog.LoadDefault().PreprocessingSteps);
                var readers = ImageReaderRegistry.CreateDefault();
                string outDir = Directory.CreateDirectory(Path.Combine(dir, "out")).FullName;
                var (channel, invoker) = EduChannel.Open(WorkerHost.Addresses(app)[0], apiKey: null);
                using var _ = channel;
                var client = new SegmentationService.SegmentationServiceClient(invoker);
                InProcess(predictor, readers, image, outDir, ct); // warm-up
                await SegmentAsync(client, image, ct).ConfigureAwait(false); // warm-up: loads the model
                var metrics = app.Services.GetRequiredService<WorkerMetrics>();
                var before = metrics.SegmentStageTotals();
                // alternate the two paths, so that drift in the machine's speed falls on both alike
                var local = new List<double>();
                var grpc = new List<double>();
                var server = new List<double>();
                for (int i = 0; i < requests; i++)
                {
                    local.Add(InProcess(predictor, readers, image, outDir, ct));
                    var watch = Stopwatch.StartNew();
                    server.Add(1000 * await SegmentAsync(client, image, ct).ConfigureAwait(false));
                    grpc.Add(watch.Elapsed.TotalMilliseconds);
                }
                double inProcess = BenchStatistics.Median(local), grpcMs = BenchStatistics.Median(grpc);
                var stages = metrics.SegmentStageTotals().ToDictionary(kv => kv.Key,
                    kv => Math.Round(1000 * (kv.Value.Seconds - before.GetValueOrDefault(kv.Key).Seconds) / requests, 1));
                var runs = new List<ThroughputRun>();
                foreach (int clients in clientCounts)
                    runs.Add(await ThroughputAsync(invoker, metrics, image, clients, seconds, ct).ConfigureAwait(false));
                var last = runs[^1];
                return new Result(architecture, size, requests, Math.Round(inProcess, 1), Math.Round(grpcMs, 1),
                    Math.Round(100 * (grpcMs - inProcess) / inProcess, 1), Math.Round(BenchStatistics.Median(server), 1), stages, last.Clients, last.Seconds,
                    last.Completed, last.BusyReplies, last.RequestsPerSecond, runs);
            }
            finally
            {
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await app.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string WritePackage(string dir, string architecture, int baseChannels)
    {
        var hyperparameters = new ModelHyperparameters(2, 1, 1, baseChannels, 4, false);
        using var model = ModelCatalogue.CreateBuiltIn().Create(architecture, hyperparameters);
        var manifest = new ModelManifest
        {
            Name = "bench",
            Version = "1",
            Architecture = architecture,
            Hyperparameters = hyperparameters,
            Labels = new Dictionary<string, string> { ["0"] = "background", ["1"] = "foreground" },
            Preprocessing = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["pipeline"] = "zscore" }, CliJson.Options),
        };
        ModelPackage.Save(dir, manifest, model);
        return dir;
    }

    // The same work the worker does for one request, without the transport: read the PNG, predict, write the labels (ms).
    private static double InProcess(Predictor predictor, ImageReaderRegistry readers, string image, string outDir, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var prediction = predictor.Predict(readers.Read(image, ct), ct);
        PredictionWriter.WriteLabels(prediction.Labels, Path.Combine(outDir, $"labels-{Guid.NewGuid():N}.nii.gz"), ct);
        return watch.Elapsed.TotalMilliseconds;
    }

    // Returns the worker's own elapsed seconds from the final status.
    private static async Task<double> SegmentAsync(SegmentationService.SegmentationServiceClient client, string image, CancellationToken ct)
    {
        using var call = client.Segment(deadline: DateTime.UtcNow.AddMinutes(10), cancellationToken: ct);
        await call.RequestStream.WriteAsync(new SegmentRequest
        {
            Header = new SegmentHeader { Model = "bench", Outputs = { OutputKind.Nifti } },
        }, ct).ConfigureAwait(false);
        await foreach (var chunk in FileChunks.ReadAsync(image, Path.GetFileName(image), cancellationToken: ct).ConfigureAwait(false))
            await call.RequestStream.WriteAsync(new SegmentRequest { Chunk = chunk }, ct).ConfigureAwait(false);
        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        SegmentStatus? status = null;
        long bytes = 0;
        while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
        {
            var response = call.ResponseStream.Current;
            if (response.EventCase == SegmentResponse.EventOneofCase.File) bytes += response.File.Data.Length;
            if (response.EventCase == SegmentResponse.EventOneofCase.Status) status = response.Status;
        }
        if (status is not { Ok: true } || bytes == 0)
            throw new InvalidOperationException($"the worker did not return labels: {status?.Message ?? "no status"}");
        return status.ElapsedSeconds;
    }

    // Closed loop: each client starts its next request as soon as the last one ended. The library client retries busy answers
    // after the worker's hint (with jitter), within the run's window; other statuses are counted by their code.
    private static async Task<ThroughputRun> ThroughputAsync(CallInvoker invoker, WorkerMetrics metrics, string image, int clients, double seconds, CancellationToken ct)
    {
        int completed = 0, busy = 0;
        var errors = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var details = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var rejectedBefore = RejectedTotals(metrics);
        var watch = Stopwatch.StartNew();
        var end = DateTime.UtcNow.AddSeconds(seconds);
        var segment = new SegmentClient(invoker, SegmentRetryPolicy.Default with { RetryUntil = end });
        var header = new SegmentHeader { Model = "bench", Outputs = { OutputKind.Nifti } };
        var countBusy = new BusyCounter(() => Interlocked.Increment(ref busy)); // every busy answer that is retried
        var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (DateTime.UtcNow < end)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await segment.SegmentAsync(header, [image], _ => Stream.Null, DateTime.UtcNow.AddMinutes(10), countBusy, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref completed);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                catch (RpcException e) when (EduChannel.RetryAfter(e) is not null)
                {
                    // busy, and the wait it asks for ends past the window: this client's next try would not start in time
                    Interlocked.Increment(ref busy);
                    break;
                }
                catch (RpcException e)
                {
                    errors.AddOrUpdate(e.StatusCode.ToString(), 1, (_, n) => n + 1);
                    details.TryAdd(e.StatusCode.ToString(), e.Status.Detail); // the first of each code, to tell what happened
                }
            }
        }, ct)).ToList();
        await Task.WhenAll(workers).ConfigureAwait(false);
        double elapsed = watch.Elapsed.TotalSeconds;
        var rejected = RejectedTotals(metrics).ToDictionary(kv => kv.Key, kv => kv.Value - rejectedBefore[kv.Key]).Where(kv => kv.Value > 0)
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        return new ThroughputRun(clients, Math.Round(elapsed, 1), completed, Math.Round(completed / elapsed, 2),
            Math.Round(BenchStatistics.Percentile(latencies, 50), 0), Math.Round(BenchStatistics.Percentile(latencies, 99), 0), busy,
            errors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(), details.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(), rejected);
    }

    // Counts the library client's "busy" reports on the calling thread (Progress<T> would post them to the thread pool).
    private sealed class BusyCounter(Action count) : IProgress<SegmentProgress>
    {
        public void Report(SegmentProgress value)
        {
            if (value.Stage == "busy") count();
        }
    }

    private static Dictionary<string, double> RejectedTotals(WorkerMetrics metrics) =>
        new[] { "queue_full", "wait_limit", "upload_limit" }.ToDictionary(r => r, metrics.SegmentationsRejected);

    private static string CopyPackage(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        // the worker finds packages by their manifest's name: serve the copy as "bench" version "1"
        var manifest = ModelPackage.ReadManifest(target) with { Name = "bench", Version = "1" };
        File.WriteAllText(Path.Combine(target, ModelPackage.ManifestFile), JsonSerializer.Serialize(manifest, Edu.Abstractions.Serialization.EduJson.Indented));
        return target;
    }

    private static ImageVolume SyntheticImage(int n)
    {
        var voxels = new float[n * n];
        var random = new Random(7);
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
            {
                bool inside = Math.Abs(x - n / 2) < n / 4 && Math.Abs(y - n / 2) < n / 5;
                voxels[y * n + x] = (inside ? 170 : 60) + random.Next(40);
            }
        return new ImageVolume(ImageGeometry.Identity(new VolumeSize(n, n, 1)), 1, voxels, PixelType.UInt8);
    }
}
