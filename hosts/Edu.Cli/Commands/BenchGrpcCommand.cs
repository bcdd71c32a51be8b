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
using Edu.V1;
using Edu.Worker;
using Edu.Worker.Metrics;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu bench grpc</c>: segmentation of one 2-D image through the worker (a real Kestrel on loopback and
/// a real gRPC client) against the same work in-process (read the PNG, predict, write the NIfTI labels),
/// then sustained requests per second with several concurrent clients. The model is an untrained
/// package of the chosen architecture: latency does not depend on the weights.
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
        [property: JsonPropertyName("requests_per_s")] double RequestsPerSecond);

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Architecture (see `edu models`).", DefaultValueFactory = _ => "edu" };
        var size = new Option<int>("--size") { Description = "Edge of the square grey image (divisible by 16).", DefaultValueFactory = _ => 256 };
        var baseChannels = new Option<int>("--base") { Description = "Base width of the model.", DefaultValueFactory = _ => 32 };
        var requests = new Option<int>("--requests") { Description = "Timed sequential requests per path (the median is reported).", DefaultValueFactory = _ => 10 };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients for the throughput run.", DefaultValueFactory = _ => 8 };
        var seconds = new Option<double>("--seconds") { Description = "Length of the throughput run.", DefaultValueFactory = _ => 30 };
        var json = new Option<bool>("--json") { Description = "End with one JSON line." };
        var command = new Command("grpc", "Time gRPC segmentation of one image against the same work in-process, then requests per second with concurrent clients.")
        {
            model, size, baseChannels, requests, clients, seconds, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            int n = parse.GetValue(size), b = parse.GetValue(baseChannels), r = parse.GetValue(requests), c = parse.GetValue(clients);
            double s = parse.GetValue(seconds);
            if (n < 16 || n > 2048 || n % 16 != 0) throw new InvalidInputException("--size", $"{n}: use a multiple of 16 between 16 and 2048");
            if (b < 2 || b > 64) throw new InvalidInputException("--base", $"{b} is outside 2…64");
            if (r < 1 || r > 1000) throw new InvalidInputException("--requests", $"{r} is outside 1…1000");
            if (c < 1 || c > 64) throw new InvalidInputException("--clients", $"{c} is outside 1…64");
            if (!(s > 0 && s <= 3600)) throw new InvalidInputException("--seconds", $"{s} is outside (0, 3600]");
            var result = await RunAsync(parse.GetValue(model)!, n, b, r, c, s, cancellationToken).ConfigureAwait(false);
            var culture = CultureInfo.InvariantCulture;
            Console.Out.WriteLine(string.Create(culture, $"{result.Model}, {n}×{n} grey PNG → labels.nii.gz, median of {r}"));
            Console.Out.WriteLine(string.Create(culture, $"  in-process (read, predict, write)  {result.InProcessMs,8:0.0} ms"));
            Console.Out.WriteLine(string.Create(culture, $"  gRPC Segment over loopback         {result.GrpcMs,8:0.0} ms  ({result.OverheadPercent:+0.0;-0.0} %)"));
            string stages = string.Join(", ", result.ServerStagesMs.Select(kv => string.Create(culture, $"{kv.Key} {kv.Value:0.0}")));
            Console.Out.WriteLine(string.Create(culture, $"    of which in the worker           {result.ServerMs,8:0.0} ms  (mean ms per stage: {stages})"));
            Console.Out.WriteLine(string.Create(culture, $"  {c} clients for {result.Seconds:0} s: {result.Completed} done, {result.BusyReplies} busy replies, {result.RequestsPerSecond:0.00} requests/s"));
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(result, CliJson.Options));
            return CliApp.Ok;
        });
        return command;
    }

    private static async Task<Result> RunAsync(string architecture, int size, int baseChannels, int requests, int clients, double seconds, CancellationToken ct)
    {
        // the worker applies these at start; applied here before anything loads LibTorch, both paths run under them
        ServingTuning.Apply();
        string dir = Directory.CreateTempSubdirectory("edu-bench-grpc-").FullName;
        try
        {
            string models = Path.Combine(dir, "models");
            string package = WritePackage(Path.Combine(models, "bench", "1"), architecture, baseChannels);
            string image = Path.Combine(dir, "image.png");
            ImageWriterRegistry.CreateDefault().Write(SyntheticImage(size), image, ct);

            var app = WorkerHost.Build(["--urls", "http://127.0.0.1:0", $"--Worker:ModelsPath={models}",
                $"--Worker:DataPath={Path.Combine(dir, "data")}", "--Worker:Metrics=false", "--Logging:LogLevel:Default=Warning"]);
            await WorkerHost.StartAsync(app, ct).ConfigureAwait(false);
            try
            {
                using var predictor = Predictor.Load(package);
                var readers = ImageReaderRegistry.CreateDefault();
                string outDir = Directory.CreateDirectory(Path.Combine(dir, "out")).FullName;
                using var channel = GrpcChannel.ForAddress(WorkerHost.Addresses(app)[0]);
                var client = new SegmentationService.SegmentationServiceClient(channel);
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
                var (completed, busy, elapsed) = await ThroughputAsync(client, image, clients, seconds, ct).ConfigureAwait(false);
                return new Result(architecture, size, requests, Math.Round(inProcess, 1), Math.Round(grpcMs, 1),
                    Math.Round(100 * (grpcMs - inProcess) / inProcess, 1), Math.Round(BenchStatistics.Median(server), 1), stages, clients, Math.Round(elapsed, 1), completed, busy,
                    Math.Round(completed / elapsed, 2));
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

    private static async Task<(int Completed, int Busy, double Seconds)> ThroughputAsync(
        SegmentationService.SegmentationServiceClient client, string image, int clients, double seconds, CancellationToken ct)
    {
        int completed = 0, busy = 0;
        var watch = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(seconds);
        var workers = Enumerable.Range(0, clients).Select(async _ =>
        {
            while (watch.Elapsed < end)
            {
                try
                {
                    await SegmentAsync(client, image, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref completed);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
                {
                    Interlocked.Increment(ref busy);
                    string? hint = e.Trailers.GetValue("retry-after-ms");
                    await Task.Delay(int.TryParse(hint, NumberStyles.Integer, CultureInfo.InvariantCulture, out int ms) ? Math.Min(ms, 1000) : 200, ct).ConfigureAwait(false);
                }
            }
        }).ToList();
        await Task.WhenAll(workers).ConfigureAwait(false);
        return (completed, busy, watch.Elapsed.TotalSeconds);
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
