using System.Diagnostics;
using System.Globalization;
using Edu.Client;
using Edu.V1;
using Grpc.Health.V1;

using Edu.Worker.Tests.Jobs;

namespace Edu.Worker.Tests.Fleet;

/// <summary>
/// Several workers on one PostgreSQL job queue and one shared data and models folder: every job runs once, and a job
/// whose worker is killed with SIGKILL is taken over by another and resumes from its checkpoint.
/// </summary>
public sealed class FleetTests : IClassFixture<PostgresJobStoreTests.Server>
{
    private readonly PostgresServer _postgres;

    public FleetTests(PostgresJobStoreTests.Server server) => _postgres = server.Postgres;

    private static Dictionary<string, string?> Fleet(string database, string id) => new()
    {
        ["Worker:JobStore"] = database,
        ["Worker:Id"] = id,
        ["Worker:JobLeaseSeconds"] = "3",
    };

    private static StartTrainingRequest Tiny(string dataset, string name, int epochs) => new()
    {
        Dataset = dataset, ModelName = name, ModelVersion = "1", Architecture = "unet", Epochs = epochs, BatchSize = 2, PatchSize = 32, BaseChannels = 4,
        Options = { ["depth"] = "2", ["steps_per_epoch"] = "2", ["threads"] = "1" },
    };

    [Fact]
    public async Task Three_workers_on_one_queue_run_each_of_eight_jobs_exactly_once()
    {
        using var temp = new TempDir();
        string dataset = TestData.Dataset(temp.Sub("boxes"), 6);
        string database = _postgres.NewDatabase();
        var workers = new List<TestWorker>();
        try
        {
            for (int i = 0; i < 3; i++)
                workers.Add(await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"), Fleet(database, $"w{i}")));
            var ids = new List<string>();
            for (int i = 0; i < 8; i++) // submitted through different workers: one queue
                ids.Add((await workers[i % 3].Client<TrainingService.TrainingServiceClient>().StartTrainingAsync(Tiny(dataset, $"m{i}", 1))).Id);

            var client = workers[0].Client<TrainingService.TrainingServiceClient>();
            var deadline = DateTime.UtcNow.AddMinutes(5);
            List<Job> jobs;
            do
            {
                await Task.Delay(500);
                jobs = [.. (await client.ListJobsAsync(new ListJobsRequest { Limit = 100 })).Jobs];
            } while (jobs.Any(j => j.State is JobState.Queued or JobState.Running) && DateTime.UtcNow < deadline);

            Assert.Equal(ids.Order(), jobs.Select(j => j.Id).Order());
            Assert.All(jobs, j => Assert.Equal((JobState.Succeeded, 1, 0), (j.State, j.Attempts, j.Resumes)));
            Assert.All(jobs, j => Assert.StartsWith("w", j.Worker, StringComparison.Ordinal));
            foreach (var id in ids)
            {
                var events = new List<JobEvent>();
                using var watch = client.WatchJob(new WatchJobRequest { JobId = id });
                while (await watch.ResponseStream.MoveNext(CancellationToken.None)) events.Add(watch.ResponseStream.Current);
                Assert.Equal(1, events.Count(e => e.Started is not null)); // run once, by one worker
            }
            Assert.Equal(8, Directory.GetDirectories(temp.Sub("models")).Length); // every package published once, in the shared folder
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_training_whose_worker_is_killed_is_taken_over_by_another_worker_and_ends_with_the_weights_of_an_uninterrupted_run()
    {
        using var temp = new TempDir();
        string dataset = TestData.Dataset(temp.Sub("boxes"), 6);
        string database = _postgres.NewDatabase();
        string address = $"http://127.0.0.1:{FreePort()}";
        string jobId;
        using (var process = await WorkerProcess.StartAsync(address, $"--Worker:ModelsPath={temp.Sub("models")}", $"--Worker:DataPath={temp.Sub("data")}",
                   $"--Worker:JobStore={database}", "--Worker:Id=doomed", "--Worker:JobLeaseSeconds=3"))
        {
            try
            {
                var client = new TrainingService.TrainingServiceClient(process.Invoker);
                jobId = (await client.StartTrainingAsync(Seeded(Tiny(dataset, "killed", 8)), deadline: DateTime.UtcNow.AddMinutes(1))).Id;
                using var watch = client.WatchJob(new WatchJobRequest { JobId = jobId }, deadline: DateTime.UtcNow.AddMinutes(3));
                while (await watch.ResponseStream.MoveNext(CancellationToken.None) && watch.ResponseStream.Current.Checkpoint?.Path != "last") { }
                Assert.Equal("last", watch.ResponseStream.Current.Checkpoint?.Path);
                Assert.Equal("doomed", (await client.GetJobAsync(new JobRequest { JobId = jobId })).Worker);
            }
            finally
            {
                Assert.NotEqual(0, await process.KillAsync());
            }
        }
        var killedAt = Stopwatch.StartNew();

        // another worker on the same queue and folders: it claims the job once its lease (3 s) ran out
        await using var survivor = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"), Fleet(database, "survivor"));
        var again = survivor.Client<TrainingService.TrainingServiceClient>();
        var events = new List<JobEvent>();
        using (var call = again.WatchJob(new WatchJobRequest { JobId = jobId }, deadline: DateTime.UtcNow.AddMinutes(3)))
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                events.Add(call.ResponseStream.Current);
                if (events[^1].Started is { Resumed: true }) break;
            }
        Assert.True(events[^1].Started is { Resumed: true }, "no resumed start; events: " + string.Join(" | ", events.Select(e => e.ToString())));
        Assert.True(killedAt.Elapsed < TimeSpan.FromSeconds(30), $"taken over after {killedAt.Elapsed.TotalSeconds:0.0} s");
        var job = await again.GetJobAsync(new JobRequest { JobId = jobId });
        Assert.Equal(("survivor", 2, 1), (job.Worker, job.Attempts, job.Resumes));
        await WaitForEndAsync(again, jobId);
        Assert.Equal(JobState.Succeeded, (await again.GetJobAsync(new JobRequest { JobId = jobId })).State);

        // the same job, never interrupted: the trainer's exact resume makes the two packages' weights the same bytes
        string straight = (await again.StartTrainingAsync(Seeded(Tiny(dataset, "straight", 8)))).Id;
        await WaitForEndAsync(again, straight);
        Assert.Equal(JobState.Succeeded, (await again.GetJobAsync(new JobRequest { JobId = straight })).State);
        Assert.Equal(File.ReadAllBytes(Path.Combine(temp.Sub("models"), "straight", "1", "weights.safetensors")),
            File.ReadAllBytes(Path.Combine(temp.Sub("models"), "killed", "1", "weights.safetensors")));
    }

    private static StartTrainingRequest Seeded(StartTrainingRequest request)
    {
        request.Seed = 7;
        return request;
    }

    private static async Task WaitForEndAsync(TrainingService.TrainingServiceClient client, string jobId)
    {
        using var call = client.WatchJob(new WatchJobRequest { JobId = jobId }, deadline: DateTime.UtcNow.AddMinutes(5));
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
