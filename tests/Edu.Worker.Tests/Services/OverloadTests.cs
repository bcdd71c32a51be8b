using System.Collections.Concurrent;
using System.Diagnostics;
using Edu.Abstractions.Imaging;
using Edu.Client;
using Edu.V1;
using Edu.Worker.Metrics;
using Edu.Worker.Segmentation;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Edu.Worker.Tests.Services;

/// <summary>
/// The worker under more load than it can serve (docs/worker.md): a bounded queue, only clean status codes, our own
/// client never crashes on an early answer, and a client that vanishes or stalls gives its place back.
/// </summary>
public sealed class OverloadTests(ITestOutputHelper output)
{
    private static readonly StatusCode[] AllowedUnderLoad = [StatusCode.OK, StatusCode.ResourceExhausted];

    private static SegmentHeader Header(string model) => new() { Model = model, Outputs = { OutputKind.Nifti } };

    [Fact]
    public async Task Thirty_two_clients_hammering_get_only_ok_or_busy_and_the_worker_stays_up_with_bounded_memory()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1);
        // 512² of noise: about 260 KB, several 64 KiB chunks, so that most busy answers come in the middle of an upload
        var (image, _) = TestData.Box(new VolumeSize(512, 512, 1), 1, seed: 11);
        string png = TestData.Write(image, temp.Sub("chest.png"));
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"),
            new Dictionary<string, string?> { ["Worker:SegmentationQueue"] = "4" });
        var gate = worker.App.Services.GetRequiredService<SegmentationGate>();
        var metrics = worker.App.Services.GetRequiredService<WorkerMetrics>();

        var patient = new SegmentClient(worker.Invoker, chunkBytes: 64 * 1024);
        await patient.SegmentAsync(Header("xr"), [png], _ => Stream.Null, DateTime.UtcNow.AddMinutes(2)); // loads the model
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long rssBefore = Process.GetCurrentProcess().WorkingSet64;

        var two = await HammerAsync(worker, png, clients: 2, TimeSpan.FromSeconds(3));
        var many = await HammerAsync(worker, png, clients: 32, TimeSpan.FromSeconds(8));
        output.WriteLine($"2 clients: {two.Ok / two.Seconds:0.0} OK/s; 32 clients: {many.Ok / many.Seconds:0.0} OK/s " +
            $"({many.Ok / many.Seconds / (two.Ok / two.Seconds):0.00}×), busy {many.Codes.GetValueOrDefault(StatusCode.ResourceExhausted)}");

        foreach (var run in new[] { two, many })
        {
            Assert.All(run.Codes.Keys, code => Assert.Contains(code, AllowedUnderLoad));
            Assert.Equal(0, run.BusyWithoutHint);
        }
        Assert.True(many.Ok > 0, "no request was served under load");
        Assert.True(many.Codes.GetValueOrDefault(StatusCode.ResourceExhausted) > 0, "32 clients against 5 places were never turned away");
        Assert.True(metrics.SegmentationsRejected("queue_full") > 0);

        // every place is given back, and the worker still serves
        await WaitUntil(() => gate.Admitted == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, metrics.SegmentationsWaiting.Value);
        Assert.Equal(0, metrics.SegmentationsActive.Value);
        var after = await patient.SegmentAsync(Header("xr"), [png], _ => Stream.Null, DateTime.UtcNow.AddMinutes(2));
        Assert.True(after.Status.Ok);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(temp.Sub("data"), "tmp")));

        GC.Collect();
        GC.WaitForPendingFinalizers();
        long growth = Process.GetCurrentProcess().WorkingSet64 - rssBefore;
        output.WriteLine($"RSS growth {growth / (1 << 20)} MiB");
        Assert.True(growth < 256L << 20, $"resident memory grew by {growth / (1 << 20)} MiB over the run");
    }

    [Fact]
    public async Task A_busy_answer_to_a_20_MB_upload_is_reported_and_retried_and_nothing_throws()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1);
        // a 2300² float32 NIfTI: 21 MB, uncompressed
        var (image, _) = TestData.Box(new VolumeSize(2300, 2300, 1), 1, seed: 12);
        string nii = TestData.Write(new ImageVolume(image.Geometry, 1, image.Voxels, PixelType.Float32), temp.Sub("big.nii"));
        Assert.True(new FileInfo(nii).Length > 20_000_000);
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"), new Dictionary<string, string?>
        {
            ["Worker:SegmentationConcurrency"] = "1", ["Worker:SegmentationQueue"] = "0", ["Worker:RetryAfterMs"] = "300",
        });

        // the only place is taken by a call whose upload has begun and not ended
        using var holderCancel = new CancellationTokenSource();
        var holder = worker.Client<SegmentationService.SegmentationServiceClient>().Segment(deadline: DateTime.UtcNow.AddMinutes(2), cancellationToken: holderCancel.Token);
        await holder.RequestStream.WriteAsync(new SegmentRequest { Header = Header("xr") });
        Assert.True(await holder.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal("upload", holder.ResponseStream.Current.Progress.Stage);

        var seen = new ConcurrentQueue<SegmentProgress>();
        var progress = new Progress<SegmentProgress>(p =>
        {
            seen.Enqueue(p);
            if (p.Stage == "busy") holderCancel.Cancel(); // the place frees while the client waits its hint
        });
        var files = new Dictionary<string, MemoryStream>();
        var outcome = await new SegmentClient(worker.Invoker).SegmentAsync(Header("xr"), [nii], name => files[name] = new MemoryStream(),
            DateTime.UtcNow.AddMinutes(3), progress);
        holder.Dispose();

        Assert.True(outcome.Status.Ok);
        Assert.True(outcome.BusyReplies >= 1);
        Assert.Equal(outcome.BusyReplies + 1, outcome.Attempts);
        Assert.Equal(["labels.nii.gz"], outcome.Files);
        Assert.True(files["labels.nii.gz"].ToArray().Length > 0);
        await WaitUntil(() => seen.Any(p => p.Stage == "busy"), TimeSpan.FromSeconds(5)); // Progress<T> posts to the thread pool
        var busy = seen.First(p => p.Stage == "busy");
        Assert.Equal(1, busy.Attempt);
        Assert.InRange(busy.RetryIn!.Value.TotalMilliseconds, 300, 450); // the worker's hint, stretched by at most half
        // the first try was turned away before it sent any of its file: the client waits for admission before uploading
        Assert.DoesNotContain(seen, p => p.Stage == "upload" && p.Attempt == 1);
    }

    [Fact]
    public async Task A_refused_request_is_told_so_at_once_and_its_status_follows_when_the_client_ends_its_stream()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1);
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"), new Dictionary<string, string?>
        {
            ["Worker:SegmentationConcurrency"] = "1", ["Worker:SegmentationQueue"] = "0", ["Worker:RetryAfterMs"] = "700",
        });
        var client = worker.Client<SegmentationService.SegmentationServiceClient>();
        using var holder = client.Segment(deadline: DateTime.UtcNow.AddMinutes(2));
        await holder.RequestStream.WriteAsync(new SegmentRequest { Header = Header("xr") });
        Assert.True(await holder.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal("upload", holder.ResponseStream.Current.Progress.Stage); // admitted

        // a client that waits for admission: "refused" instead; it ends its stream, and the status comes with the hint
        using var call = client.Segment(deadline: DateTime.UtcNow.AddMinutes(2));
        await call.RequestStream.WriteAsync(new SegmentRequest { Header = Header("xr") });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(SegmentClient.RefusedStage, call.ResponseStream.Current.Progress.Stage);
        await call.RequestStream.CompleteAsync();
        var busy = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.ResourceExhausted, busy.StatusCode);
        Assert.Equal(TimeSpan.FromMilliseconds(700), EduChannel.RetryAfter(busy));
    }

    [Fact]
    public async Task A_client_that_uploads_without_waiting_for_admission_gets_the_busy_answer_in_the_middle_of_its_20_MB_upload()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1);
        string nii = temp.Sub("big.bin");
        await File.WriteAllBytesAsync(nii, new byte[21_000_000]); // refused before it is read: the content does not matter
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"), new Dictionary<string, string?>
        {
            ["Worker:SegmentationConcurrency"] = "1", ["Worker:SegmentationQueue"] = "0", ["Worker:RetryAfterMs"] = "300",
        });
        var client = worker.Client<SegmentationService.SegmentationServiceClient>();
        var holder = client.Segment(deadline: DateTime.UtcNow.AddMinutes(2));
        await holder.RequestStream.WriteAsync(new SegmentRequest { Header = Header("xr") });
        Assert.True(await holder.ResponseStream.MoveNext(CancellationToken.None));

        // a client of its own (e.g. another language's stubs) that writes the header and every chunk at once, several times
        // over one connection: each time the worker's busy answer with its hint, never a transport error, never UNAVAILABLE
        for (int i = 0; i < 3; i++)
        {
            var busy = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("xr"), [nii]));
            Assert.Equal(StatusCode.ResourceExhausted, busy.StatusCode);
            Assert.Equal("300", busy.Trailers.GetValue(EduChannel.RetryAfterTrailer));
        }
        holder.Dispose();
        await AssertServingAsync(worker);
    }

    [Fact]
    public async Task An_answer_in_the_middle_of_the_library_client_s_upload_is_reported_as_the_worker_s_status()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1);
        string big = temp.Sub("big.bin");
        await File.WriteAllBytesAsync(big, new byte[21_000_000]);
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"),
            new Dictionary<string, string?> { ["Worker:MaxUploadBytes"] = "5000000" });

        // admitted, then refused 5 MB into a 21 MB upload: the worker's status, not the write's "Cancelled", and no retry
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            new SegmentClient(worker.Invoker).SegmentAsync(Header("xr"), [big], _ => Stream.Null, DateTime.UtcNow.AddMinutes(2)));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("5000000 bytes", e.Status.Detail, StringComparison.Ordinal);
        Assert.Null(EduChannel.RetryAfter(e));
        await AssertServingAsync(worker);
    }

    private static async Task AssertServingAsync(TestWorker worker)
    {
        var models = await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest(), deadline: DateTime.UtcNow.AddMinutes(1));
        Assert.Single(models.Models);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_upload_and_one_that_never_half_closes_give_their_places_back()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1);
        var (image, _) = TestData.Box(new VolumeSize(64, 64, 1), 1, seed: 13);
        string png = TestData.Write(image, temp.Sub("chest.png"));
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"), new Dictionary<string, string?>
        {
            ["Worker:SegmentationConcurrency"] = "1", ["Worker:SegmentationQueue"] = "1", ["Worker:UploadIdleSeconds"] = "2",
        });
        var gate = worker.App.Services.GetRequiredService<SegmentationGate>();
        var metrics = worker.App.Services.GetRequiredService<WorkerMetrics>();
        var client = worker.Client<SegmentationService.SegmentationServiceClient>();
        var half = new SegmentRequest { Chunk = new FileChunk { FileName = "chest.png", Data = Google.Protobuf.ByteString.CopyFrom(new byte[1000]) } };

        // one goes away in the middle of its upload
        using var gone = new CancellationTokenSource();
        var leaver = client.Segment(deadline: DateTime.UtcNow.AddMinutes(2), cancellationToken: gone.Token);
        await leaver.RequestStream.WriteAsync(new SegmentRequest { Header = Header("xr") });
        await leaver.RequestStream.WriteAsync(half);
        // the other sends part of its file and then nothing, never ending its stream
        var staller = client.Segment(deadline: DateTime.UtcNow.AddMinutes(2));
        await staller.RequestStream.WriteAsync(new SegmentRequest { Header = Header("xr") });
        await staller.RequestStream.WriteAsync(half);
        await WaitUntil(() => gate.Admitted == 2, TimeSpan.FromSeconds(10));
        Assert.Equal(2, metrics.SegmentationsWaiting.Value); // both admitted, uploading

        gone.Cancel();
        leaver.Dispose();
        var clock = Stopwatch.StartNew();
        var stalled = await Assert.ThrowsAsync<RpcException>(() => Segment.ReadAsync(staller.ResponseStream, CancellationToken.None));
        Assert.Equal(StatusCode.DeadlineExceeded, stalled.StatusCode);
        Assert.Contains("Worker:UploadIdleSeconds", stalled.Status.Detail, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0, 30);
        staller.Dispose();

        await WaitUntil(() => gate.Admitted == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, metrics.SegmentationsWaiting.Value);
        var outcome = await new SegmentClient(worker.Invoker).SegmentAsync(Header("xr"), [png], _ => Stream.Null, DateTime.UtcNow.AddMinutes(2));
        Assert.True(outcome.Status.Ok);
        Assert.Equal(1, outcome.Attempts);
        await WaitUntil(() => !Directory.EnumerateFileSystemEntries(Path.Combine(temp.Sub("data"), "tmp")).Any(), TimeSpan.FromSeconds(10));
    }

    private sealed record Run(int Ok, double Seconds, Dictionary<StatusCode, int> Codes, int BusyWithoutHint);

    // Closed loop: half the clients share the worker's connection, half open their own; half retry a busy answer after the
    // worker's hint (the library's policy), half call again at once, as an impatient client does.
    private static async Task<Run> HammerAsync(TestWorker worker, string image, int clients, TimeSpan length)
    {
        var codes = new ConcurrentDictionary<StatusCode, int>();
        int ok = 0, withoutHint = 0;
        var end = DateTime.UtcNow + length;
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            (GrpcChannel? channel, CallInvoker invoker) = i % 2 == 0 ? (null, worker.Invoker) : EduChannel.Open(worker.Address, apiKey: null);
            using var _ = channel;
            var policy = i % 4 < 2 ? SegmentRetryPolicy.None : SegmentRetryPolicy.Default with { RetryUntil = end };
            var client = new SegmentClient(invoker, policy, chunkBytes: 64 * 1024);
            while (DateTime.UtcNow < end)
            {
                try
                {
                    await client.SegmentAsync(Header("xr"), [image], _ => Stream.Null, DateTime.UtcNow.AddMinutes(2));
                    Interlocked.Increment(ref ok);
                    codes.AddOrUpdate(StatusCode.OK, 1, (_, n) => n + 1);
                }
                catch (RpcException e)
                {
                    codes.AddOrUpdate(e.StatusCode, 1, (_, n) => n + 1);
                    // ENHANCE_YOUR_CALM from Kestrel reaches a client as RESOURCE_EXHAUSTED without the worker's hint
                    if (e.StatusCode == StatusCode.ResourceExhausted && EduChannel.RetryAfter(e) is null) Interlocked.Increment(ref withoutHint);
                }
            }
        })).ToList();
        await Task.WhenAll(tasks);
        return new Run(ok, clock.Elapsed.TotalSeconds, new Dictionary<StatusCode, int>(codes), withoutHint);
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit) Assert.Fail($"not reached within {limit.TotalSeconds} s");
            await Task.Delay(50);
        }
    }
}
