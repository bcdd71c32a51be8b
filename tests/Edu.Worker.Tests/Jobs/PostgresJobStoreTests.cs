using System.Collections.Concurrent;
using Edu.V1;
using Edu.Worker.Jobs;

namespace Edu.Worker.Tests.Jobs;

/// <summary>The shared job queue on a real PostgreSQL: each job claimed once, leases, take-over of a dead worker's job, fencing.</summary>
public sealed class PostgresJobStoreTests : IClassFixture<PostgresJobStoreTests.Server>
{
    public sealed class Server : IDisposable
    {
        public PostgresServer Postgres { get; } = new();

        public void Dispose() => Postgres.Dispose();
    }

    private readonly PostgresServer _postgres;

    public PostgresJobStoreTests(Server server) => _postgres = server.Postgres;

    private static StartTrainingRequest Request(string name) => new() { Dataset = "d", ModelName = name, Epochs = 2 };

    [Fact]
    public void A_job_lives_as_on_SQLite_events_numbered_per_job_and_an_ended_job_stays_ended()
    {
        using var store = new PostgresJobStore(_postgres.NewDatabase());
        string first = store.Create(Request("m1")).Id, second = store.Create(Request("m2")).Id;
        var claimed = store.ClaimNext("w1", TimeSpan.FromMinutes(1))!;
        Assert.Equal((first, "w1", 1, JobState.Running), (claimed.Id, claimed.Worker, claimed.Attempts, claimed.State));
        store.AppendEvent(first, new JobEvent { Epoch = new EpochCompleted { Epoch = 1, Epochs = 2 } });
        store.SetProgress(first, 1, 0.5);
        Assert.Equal([1L, 2L], store.Events(first, 0).Select(e => e.Sequence));
        Assert.Equal([1L], store.Events(second, 0).Select(e => e.Sequence));
        Assert.True(store.Finish(first, JobState.Succeeded, "", new JobEvent { Finished = new JobFinished { ModelName = "m1" } }, heldBy: "w1"));
        Assert.False(store.Finish(first, JobState.Failed, "late", new JobEvent { Failed = new JobFailed() }));
        Assert.True(store.Finish(second, JobState.Cancelled, "asked", new JobEvent { Cancelled = new JobCancelled() }, onlyIfQueued: true));
        Assert.Equal((JobState.Succeeded, 1.0), (store.Find(first)!.State, store.Find(first)!.Progress));
        Assert.Equal([second], store.List([JobState.Cancelled], 10).Select(j => j.Id));
        Assert.Equal(1, store.CountByState()[JobState.Succeeded]);
        Assert.Null(store.ClaimNext("w1", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task Three_workers_claiming_at_once_take_each_of_eight_jobs_exactly_once()
    {
        string database = _postgres.NewDatabase();
        using (var setup = new PostgresJobStore(database))
            for (int i = 0; i < 8; i++) setup.Create(Request($"m{i}"));
        var stores = Enumerable.Range(1, 3).Select(_ => new PostgresJobStore(database)).ToArray();
        try
        {
            var claims = new ConcurrentBag<(string Worker, string Job)>();
            using var start = new Barrier(3);
            await Task.WhenAll(stores.Select((store, w) => Task.Run(() =>
            {
                start.SignalAndWait();
                while (store.ClaimNext($"w{w}", TimeSpan.FromMinutes(1)) is { } job) claims.Add(($"w{w}", job.Id));
            })));
            Assert.Equal(8, claims.Count);
            Assert.Equal(8, claims.Select(c => c.Job).Distinct().Count());
            foreach (var (worker, job) in claims)
                Assert.Equal((worker, 1), (stores[0].Find(job)!.Worker, stores[0].Find(job)!.Attempts));
        }
        finally
        {
            foreach (var store in stores) store.Dispose();
        }
    }

    [Fact]
    public async Task A_job_whose_worker_stopped_renewing_is_taken_over_and_the_old_worker_can_no_longer_end_it()
    {
        string database = _postgres.NewDatabase();
        using var dead = new PostgresJobStore(database);
        using var alive = new PostgresJobStore(database);
        string id = dead.Create(Request("m")).Id;
        Assert.Equal(id, dead.ClaimNext("dead", TimeSpan.FromSeconds(1))!.Id);
        Assert.Null(alive.ClaimNext("alive", TimeSpan.FromSeconds(30))); // the lease holds

        await Task.Delay(1300); // the dead worker renews nothing
        var taken = alive.ClaimNext("alive", TimeSpan.FromSeconds(30))!;
        Assert.Equal((id, "alive", 2, 1), (taken.Id, taken.Worker, taken.Attempts, taken.Resumes));

        Assert.Equal([id], dead.RenewLeases("dead", [id], TimeSpan.FromSeconds(30))); // lost: its scheduler stops the job
        Assert.Empty(alive.RenewLeases("alive", [id], TimeSpan.FromSeconds(30)));
        Assert.False(dead.Finish(id, JobState.Failed, "stale", new JobEvent { Failed = new JobFailed() }, heldBy: "dead"));
        Assert.True(alive.Finish(id, JobState.Succeeded, "", new JobEvent { Finished = new JobFinished() }, heldBy: "alive"));
    }

    [Fact]
    public void A_restarted_worker_requeues_only_its_own_jobs()
    {
        string database = _postgres.NewDatabase();
        using var store = new PostgresJobStore(database);
        string mine = store.Create(Request("a")).Id, theirs = store.Create(Request("b")).Id;
        store.ClaimNext("w1", TimeSpan.FromMinutes(5));
        store.ClaimNext("w2", TimeSpan.FromMinutes(5));
        Assert.Equal([mine], store.RequeueInterrupted("w1"));
        Assert.Equal((JobState.Queued, 1), (store.Find(mine)!.State, store.Find(mine)!.Resumes));
        Assert.Equal(JobState.Running, store.Find(theirs)!.State);
    }

    [Fact]
    public void A_job_goes_only_to_a_worker_whose_device_and_memory_meet_its_requirements()
    {
        using var store = new PostgresJobStore(_postgres.NewDatabase());
        var cpu = new WorkerCapabilities("cpu", 24_000);
        var gpu = new WorkerCapabilities("cuda", 80_000);
        var big = Request("big");
        big.Requirements = new JobRequirements { DeviceKind = "cuda", MinMemoryMb = 40_000 };
        string bigId = store.Create(big).Id;
        var roomy = Request("roomy");
        roomy.Requirements = new JobRequirements { MinMemoryMb = 16_000 };
        string roomyId = store.Create(roomy).Id;
        string anyId = store.Create(Request("any")).Id;

        // the CPU worker skips the GPU job (it stays first in line for a GPU) and takes the next ones it can run
        Assert.Equal(roomyId, store.ClaimNext("cpu-1", TimeSpan.FromMinutes(1), cpu)!.Id);
        Assert.Equal(anyId, store.ClaimNext("cpu-1", TimeSpan.FromMinutes(1), cpu)!.Id);
        Assert.Null(store.ClaimNext("cpu-1", TimeSpan.FromMinutes(1), cpu));
        Assert.Null(store.ClaimNext("small-gpu", TimeSpan.FromMinutes(1), new WorkerCapabilities("cuda", 16_000)));
        Assert.Equal(bigId, store.ClaimNext("gpu-1", TimeSpan.FromMinutes(1), gpu)!.Id);
        Assert.Equal(("cuda", 40_000L), (store.Find(bigId)!.Request.Requirements.DeviceKind, store.Find(bigId)!.Request.Requirements.MinMemoryMb));
    }

    [Fact]
    public void A_bad_connection_string_names_the_problem()
    {
        var e = Assert.ThrowsAny<Exception>(() => new PostgresJobStore($"Host=127.0.0.1;Port={_postgres.Port};Username=edu;Database=no_such_db_here"));
        Assert.Contains("no_such_db_here", e.Message, StringComparison.Ordinal);
        Assert.IsType<Edu.Abstractions.Errors.InvalidInputException>(e); // a clear error (exit 2 from the worker), not an internal one
        Assert.IsType<Edu.Abstractions.Errors.InvalidInputException>(Assert.ThrowsAny<Exception>(() => new PostgresJobStore("Nonsense=1")));
    }
}
