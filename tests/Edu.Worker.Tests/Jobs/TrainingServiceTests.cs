using Edu.Client;
using Edu.V1;
using Grpc.Core;

namespace Edu.Worker.Tests.Jobs;

public sealed class TrainingServiceTests
{
    private static DateTime Soon => DateTime.UtcNow.AddMinutes(3);

    private static StartTrainingRequest Tiny(string dataset, string model, int epochs) => new()
    {
        Dataset = dataset,
        ModelName = model,
        ModelVersion = "1",
        Architecture = "unet",
        Epochs = epochs,
        BatchSize = 2,
        PatchSize = 32,
        BaseChannels = 4,
        Seed = 7,
        Options = { ["depth"] = "2", ["threads"] = "1" },
    };

    private static async Task<UploadDatasetResponse> Upload(TestWorker worker, string name, string folder)
    {
        using var call = worker.Client<TrainingService.TrainingServiceClient>().UploadDataset(deadline: Soon);
        try
        {
            await call.RequestStream.WriteAsync(new UploadDatasetRequest { Header = new DatasetHeader { Name = name } });
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                await foreach (var chunk in FileChunks.ReadAsync(file, Path.GetRelativePath(folder, file).Replace('\\', '/'), 4096))
                    await call.RequestStream.WriteAsync(new UploadDatasetRequest { Chunk = chunk });
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            // the worker ended the call early: its status comes with the response
        }
        return await call;
    }

    private static async Task<List<JobEvent>> Watch(TestWorker worker, string jobId, long after = 0)
    {
        using var call = worker.Client<TrainingService.TrainingServiceClient>().WatchJob(new WatchJobRequest { JobId = jobId, AfterSequence = after },
            deadline: DateTime.UtcNow.AddMinutes(4));
        var events = new List<JobEvent>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) events.Add(call.ResponseStream.Current);
        return events;
    }

    [Fact]
    public async Task Uploads_a_dataset_trains_it_with_watched_events_and_serves_the_model()
    {
        using var temp = new TempDir();
        TestData.Dataset(temp.Sub("boxes"), 6);
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));
        var client = worker.Client<TrainingService.TrainingServiceClient>();

        var uploaded = await Upload(worker, "boxes", temp.Sub("boxes"));
        Assert.Equal(13, uploaded.Files);
        var again = await Assert.ThrowsAsync<RpcException>(() => Upload(worker, "boxes", temp.Sub("boxes")));
        Assert.Equal(StatusCode.AlreadyExists, again.StatusCode);

        var job = await client.StartTrainingAsync(Tiny("boxes", "boxnet", epochs: 2), deadline: Soon);
        Assert.Equal(JobState.Queued, job.State);
        var events = await Watch(worker, job.Id);

        var kinds = events.Select(e => e.EventCase).ToList();
        Assert.Equal(JobEvent.EventOneofCase.Queued, kinds[0]);
        Assert.Equal(JobEvent.EventOneofCase.Started, kinds[1]);
        Assert.Single(events, e => e.EventCase == JobEvent.EventOneofCase.Started);
        Assert.Equal(JobEvent.EventOneofCase.Finished, kinds[^1]);
        Assert.Equal([1, 2], events.Where(e => e.EventCase == JobEvent.EventOneofCase.Epoch).Select(e => e.Epoch.Epoch));
        Assert.All(events.Where(e => e.EventCase == JobEvent.EventOneofCase.Epoch), e => Assert.True(double.IsFinite(e.Epoch.TrainLoss)));
        Assert.Contains(JobEvent.EventOneofCase.Checkpoint, kinds);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));

        var done = await client.GetJobAsync(new JobRequest { JobId = job.Id }, deadline: Soon);
        Assert.Equal((JobState.Succeeded, 2, 1.0), (done.State, done.Epoch, done.Progress));
        Assert.Equal(job.Id, (await client.ListJobsAsync(new ListJobsRequest { States = { JobState.Succeeded } }, deadline: Soon)).Jobs.Single().Id);

        var model = (await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest { Name = "boxnet" }, deadline: Soon)).Models.Single();
        Assert.Equal(("1", "unet"), (model.Version, model.Architecture));

        var (image, _) = TestData.Box(new Edu.Abstractions.Imaging.VolumeSize(32, 32, 1), 1, seed: 99, spacing: [1, 1, 1]);
        string png = TestData.Write(image, temp.Sub("case.png"));
        var outcome = await Segment.RunAsync(worker.Client<SegmentationService.SegmentationServiceClient>(),
            new SegmentHeader { Model = "boxnet", Outputs = { OutputKind.PngMask } }, [png]);
        Assert.True(outcome.Status!.Ok);
        Assert.True(outcome.Files.ContainsKey("mask.png"));

        var finished = await Assert.ThrowsAsync<RpcException>(async () => await client.CancelJobAsync(new JobRequest { JobId = job.Id }, deadline: Soon));
        Assert.Equal(StatusCode.FailedPrecondition, finished.StatusCode);
        var taken = await Assert.ThrowsAsync<RpcException>(async () => await client.StartTrainingAsync(Tiny("boxes", "boxnet", 1), deadline: Soon));
        Assert.Equal(StatusCode.AlreadyExists, taken.StatusCode);
    }

    [Fact]
    public async Task A_job_whose_loss_turns_nan_ends_failed_with_the_divergence_reason_and_publishes_nothing()
    {
        using var temp = new TempDir();
        TestData.Dataset(temp.Sub("boxes"), 4);
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));
        var client = worker.Client<TrainingService.TrainingServiceClient>();
        var request = Tiny(temp.Sub("boxes"), "blown", epochs: 2);
        request.LearningRate = 1e30;

        var job = await client.StartTrainingAsync(request, deadline: Soon);
        var events = await Watch(worker, job.Id);

        var last = events[^1];
        Assert.Equal(JobEvent.EventOneofCase.Failed, last.EventCase);
        Assert.Matches(@"^training diverged at epoch 1 step \d+ \(loss (NaN|-?Infinity)\); no checkpoint yet$", last.Failed.Reason);
        Assert.DoesNotContain(events, e => e.EventCase is JobEvent.EventOneofCase.Checkpoint or JobEvent.EventOneofCase.Epoch);
        var done = await client.GetJobAsync(new JobRequest { JobId = job.Id }, deadline: Soon);
        Assert.Equal((JobState.Failed, last.Failed.Reason), (done.State, done.Reason));
        Assert.Empty((await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest { Name = "blown" }, deadline: Soon)).Models);
    }

    [Fact]
    public async Task The_precision_is_checked_before_queueing_and_a_bf16_job_trains_and_records_it()
    {
        using var temp = new TempDir();
        TestData.Dataset(temp.Sub("boxes"), 4);
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));
        var client = worker.Client<TrainingService.TrainingServiceClient>();

        var unknown = Tiny(temp.Sub("boxes"), "m", 1);
        unknown.Precision = "fp8";
        var bad = await Assert.ThrowsAsync<RpcException>(async () => await client.StartTrainingAsync(unknown, deadline: Soon));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("precision: 'fp8' is not a precision", bad.Status.Detail, StringComparison.Ordinal);
        if (!Edu.Models.Runtime.Precisions.HasFastFloat16(Edu.Models.Runtime.CpuInfo.Current))
        {
            var half = Tiny(temp.Sub("boxes"), "m", 1);
            half.Precision = "fp16";
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.StartTrainingAsync(half, deadline: Soon));
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            Assert.Contains("fp16 is not offered on this CPU", refused.Status.Detail, StringComparison.Ordinal);
        }
        Assert.Empty((await client.ListJobsAsync(new ListJobsRequest(), deadline: Soon)).Jobs);

        var request = Tiny(temp.Sub("boxes"), "halfnet", epochs: 2);
        request.Precision = "bf16";
        var job = await client.StartTrainingAsync(request, deadline: Soon);
        var events = await Watch(worker, job.Id);
        Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
        Assert.All(events.Where(e => e.EventCase == JobEvent.EventOneofCase.Epoch), e => Assert.True(double.IsFinite(e.Epoch.TrainLoss)));
        using var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Sub("models"), "halfnet", "1", "model.json")));
        Assert.Equal("bf16", manifest.RootElement.GetProperty("training_precision").GetString());
    }

    [Fact]
    public async Task Bad_training_requests_are_refused_before_queueing()
    {
        using var temp = new TempDir();
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));
        var client = worker.Client<TrainingService.TrainingServiceClient>();

        var missing = await Assert.ThrowsAsync<RpcException>(async () => await client.StartTrainingAsync(Tiny("nothing-here", "m", 1), deadline: Soon));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        var badName = await Assert.ThrowsAsync<RpcException>(async () => await client.StartTrainingAsync(Tiny("../etc", "m", 1), deadline: Soon));
        Assert.Equal(StatusCode.InvalidArgument, badName.StatusCode);
        TestData.Dataset(temp.Sub("boxes"), 2);
        var badOption = Tiny(temp.Sub("boxes"), "m", 1);
        badOption.Options["colour"] = "blue";
        var option = await Assert.ThrowsAsync<RpcException>(async () => await client.StartTrainingAsync(badOption, deadline: Soon));
        Assert.Equal(StatusCode.InvalidArgument, option.StatusCode);
        Assert.Contains("options.colour", option.Status.Detail, StringComparison.Ordinal);
        var unknownNet = Tiny(temp.Sub("boxes"), "m", 1);
        unknownNet.Architecture = "foo";
        var net = await Assert.ThrowsAsync<RpcException>(async () => await client.StartTrainingAsync(unknownNet, deadline: Soon));
        Assert.Equal(StatusCode.InvalidArgument, net.StatusCode);
        Assert.Contains("no model named 'foo'", net.Status.Detail, StringComparison.Ordinal);
        var badPipeline = Tiny(temp.Sub("boxes"), "m", 1);
        badPipeline.Options["preprocessing"] = "bogus(x=1)";
        var pipeline = await Assert.ThrowsAsync<RpcException>(async () => await client.StartTrainingAsync(badPipeline, deadline: Soon));
        Assert.Equal(StatusCode.InvalidArgument, pipeline.StatusCode);
        Assert.Contains("'bogus'", pipeline.Status.Detail, StringComparison.Ordinal);
        var escapingName = Tiny(temp.Sub("boxes"), "../../etc", 1);
        escapingName.ModelVersion = ""; // the name is checked even when the worker picks the version
        var escape = await Assert.ThrowsAsync<RpcException>(async () => await client.StartTrainingAsync(escapingName, deadline: Soon));
        Assert.Equal(StatusCode.InvalidArgument, escape.StatusCode);
        var noJob = await Assert.ThrowsAsync<RpcException>(async () => await client.GetJobAsync(new JobRequest { JobId = "job-x" }, deadline: Soon));
        Assert.Equal(StatusCode.NotFound, noJob.StatusCode);
        Assert.Empty((await client.ListJobsAsync(new ListJobsRequest(), deadline: Soon)).Jobs);
    }

    [Fact]
    public async Task A_restart_resumes_the_running_training_from_its_checkpoint_and_runs_the_queued_job()
    {
        using var temp = new TempDir();
        string dataset = TestData.Dataset(temp.Sub("boxes"), 6);
        string firstId, secondId, cancelledId;
        await using (var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data")))
        {
            var client = worker.Client<TrainingService.TrainingServiceClient>();
            var longRequest = Tiny(dataset, "long", epochs: 1000);
            longRequest.Options["steps_per_epoch"] = "3";
            firstId = (await client.StartTrainingAsync(longRequest, deadline: Soon)).Id;
            secondId = (await client.StartTrainingAsync(Tiny(dataset, "short", epochs: 1), deadline: Soon)).Id;
            cancelledId = (await client.StartTrainingAsync(Tiny(dataset, "never", epochs: 1), deadline: Soon)).Id;
            Assert.Equal(JobState.Cancelled, (await client.CancelJobAsync(new JobRequest { JobId = cancelledId }, deadline: Soon)).State);

            // wait for the first checkpoint, then stop the worker as SIGTERM does
            using var call = client.WatchJob(new WatchJobRequest { JobId = firstId }, deadline: Soon);
            while (await call.ResponseStream.MoveNext(CancellationToken.None) && call.ResponseStream.Current.Checkpoint?.Path != "last") { }
            Assert.Equal("last", call.ResponseStream.Current.Checkpoint?.Path);
            Assert.Equal(JobState.Queued, (await client.GetJobAsync(new JobRequest { JobId = secondId }, deadline: Soon)).State);
            await worker.StopAsync();
        }

        await using (var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data")))
        {
            var client = worker.Client<TrainingService.TrainingServiceClient>();
            var first = await client.GetJobAsync(new JobRequest { JobId = firstId }, deadline: Soon);
            Assert.Equal(1, first.Resumes);
            // the resumed job keeps its events; stop it rather than train 1000 epochs
            using (var call = client.WatchJob(new WatchJobRequest { JobId = firstId }, deadline: Soon))
            {
                var seen = new List<JobEvent>();
                while (await call.ResponseStream.MoveNext(CancellationToken.None))
                {
                    seen.Add(call.ResponseStream.Current);
                    if (seen[^1].EventCase == JobEvent.EventOneofCase.Started && seen[^1].Started.Resumed)
                        break;
                }
                var resumed = seen[^1].Started;
                Assert.True(resumed.Resumed);
                Assert.Equal(JobEvent.EventOneofCase.Queued, seen[0].EventCase);
                Assert.Contains(seen, e => e.EventCase == JobEvent.EventOneofCase.Checkpoint);
            }
            await client.CancelJobAsync(new JobRequest { JobId = firstId }, deadline: Soon);
            var firstEvents = await Watch(worker, firstId);
            Assert.Equal(JobEvent.EventOneofCase.Cancelled, firstEvents[^1].EventCase);
            Assert.Equal(JobState.Cancelled, (await client.GetJobAsync(new JobRequest { JobId = firstId }, deadline: Soon)).State);
            int resumedAt = firstEvents.FindLastIndex(e => e.EventCase == JobEvent.EventOneofCase.Started);
            var afterResume = firstEvents.Skip(resumedAt).FirstOrDefault(e => e.EventCase == JobEvent.EventOneofCase.Epoch);
            if (afterResume is not null)
                Assert.True(afterResume.Epoch.Epoch > 1, $"resumed at epoch {afterResume.Epoch.Epoch}, not after the checkpoint");

            var secondEvents = await Watch(worker, secondId);
            Assert.Equal(JobEvent.EventOneofCase.Finished, secondEvents[^1].EventCase);
            Assert.Equal(JobState.Cancelled, (await client.GetJobAsync(new JobRequest { JobId = cancelledId }, deadline: Soon)).State);
        }
    }
}
