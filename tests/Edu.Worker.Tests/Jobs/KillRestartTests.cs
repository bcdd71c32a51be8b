using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Edu.Client;
using Edu.V1;
using Grpc.Health.V1;

namespace Edu.Worker.Tests.Jobs;

public sealed class KillRestartTests
{
    [Fact]
    public async Task After_sigkill_a_new_worker_finds_the_queue_and_resumes_the_training_from_its_checkpoint()
    {
        using var temp = new TempDir();
        string dataset = TestData.Dataset(temp.Sub("boxes"), 6);
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        string address = $"http://127.0.0.1:{port}";
        string longJob, queuedJob;
        using (var process = await WorkerProcess.StartAsync(address, $"--Worker:ModelsPath={temp.Sub("models")}", $"--Worker:DataPath={temp.Sub("data")}"))
        {
            try
            {
                var client = new TrainingService.TrainingServiceClient(process.Invoker);
                var request = new StartTrainingRequest
                {
                    Dataset = dataset, ModelName = "long", ModelVersion = "1", Architecture = "unet", Epochs = 1000, BatchSize = 2, PatchSize = 32, BaseChannels = 4,
                    Options = { ["depth"] = "2", ["steps_per_epoch"] = "3", ["threads"] = "1" },
                };
                longJob = (await client.StartTrainingAsync(request, deadline: DateTime.UtcNow.AddMinutes(1))).Id;
                request.ModelName = "next";
                request.Epochs = 1;
                queuedJob = (await client.StartTrainingAsync(request, deadline: DateTime.UtcNow.AddMinutes(1))).Id;
                using var watch = client.WatchJob(new WatchJobRequest { JobId = longJob }, deadline: DateTime.UtcNow.AddMinutes(3));
                // the resumable checkpoint is "last" ("best" is the best validation weights)
                while (await watch.ResponseStream.MoveNext(CancellationToken.None) && watch.ResponseStream.Current.Checkpoint?.Path != "last") { }
                Assert.Equal("last", watch.ResponseStream.Current.Checkpoint?.Path);
            }
            finally
            {
                Assert.NotEqual(0, await process.KillAsync()); // killed, not a clean stop
            }
        }

        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));
        var again = worker.Client<TrainingService.TrainingServiceClient>();
        var events = new List<JobEvent>();
        using (var call = again.WatchJob(new WatchJobRequest { JobId = longJob }, deadline: DateTime.UtcNow.AddMinutes(3)))
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                events.Add(call.ResponseStream.Current);
                if (events[^1].Started is { Resumed: true }) break;
            }
        Assert.True(events[^1].Started is { Resumed: true }, "no resumed start; events: " + string.Join(" | ", events.Select(e => e.ToString())));
        Assert.Equal(1, (await again.GetJobAsync(new JobRequest { JobId = longJob }, deadline: DateTime.UtcNow.AddMinutes(1))).Resumes);
        Assert.Equal(JobState.Queued, (await again.GetJobAsync(new JobRequest { JobId = queuedJob }, deadline: DateTime.UtcNow.AddMinutes(1))).State);
        await again.CancelJobAsync(new JobRequest { JobId = longJob }, deadline: DateTime.UtcNow.AddMinutes(1));
        using (var call = again.WatchJob(new WatchJobRequest { JobId = queuedJob }, deadline: DateTime.UtcNow.AddMinutes(3)))
        {
            JobEvent? last = null;
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) last = call.ResponseStream.Current;
            Assert.NotNull(last!.Finished);
        }
    }
}
