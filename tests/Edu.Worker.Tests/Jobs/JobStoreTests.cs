using Edu.V1;
using Edu.Worker.Jobs;

namespace Edu.Worker.Tests.Jobs;

public sealed class JobStoreTests
{
    [Fact]
    public void Jobs_and_events_survive_reopening_and_running_jobs_are_requeued()
    {
        using var temp = new TempDir();
        string db = temp.Sub("jobs.db");
        string first, second;
        using (var store = new JobStore(db))
        {
            first = store.Create(new StartTrainingRequest { Dataset = "a", ModelName = "m1", Epochs = 3 }).Id;
            second = store.Create(new StartTrainingRequest { Dataset = "b", ModelName = "m2" }).Id;
            Assert.Equal(first, store.ClaimNext()!.Id);
            store.AppendEvent(first, new JobEvent { Epoch = new EpochCompleted { Epoch = 1, Epochs = 3, TrainLoss = 0.5 } });
            store.SetProgress(first, 1, 1 / 3.0);
            // no graceful end: the store is simply closed, as when the process dies
        }
        using (var store = new JobStore(db))
        {
            Assert.Equal(JobState.Running, store.Find(first)!.State);
            Assert.Equal([first], store.RequeueInterrupted());
            var job = store.Find(first)!;
            Assert.Equal((JobState.Queued, 1, 1), (job.State, job.Resumes, job.Epoch));
            Assert.Equal("m1", job.Request.ModelName);
            var events = store.Events(first, 0);
            Assert.Equal([JobEvent.EventOneofCase.Queued, JobEvent.EventOneofCase.Epoch], events.Select(e => e.EventCase));
            Assert.Equal([1L, 2L], events.Select(e => e.Sequence));
            Assert.Single(store.Events(first, 1));
            Assert.Equal(2, store.Find(second)!.Request.Dataset == "b" ? store.List([], 10).Count : -1);
            Assert.Equal(first, store.ClaimNext()!.Id); // the oldest queued job goes first again
            Assert.True(store.Finish(first, JobState.Succeeded, "", new JobEvent { Finished = new JobFinished { ModelName = "m1" } }));
            Assert.False(store.Finish(first, JobState.Failed, "late", new JobEvent { Failed = new JobFailed { Reason = "late" } }));
            Assert.True(store.Finish(second, JobState.Cancelled, "asked", new JobEvent { Cancelled = new JobCancelled() }, onlyIfQueued: true));
        }
        using (var store = new JobStore(db))
        {
            Assert.Equal(JobState.Succeeded, store.Find(first)!.State);
            Assert.Equal(1.0, store.Find(first)!.Progress);
            Assert.Equal(JobState.Cancelled, store.Find(second)!.State);
            Assert.Empty(store.RequeueInterrupted());
            Assert.Null(store.ClaimNext());
            Assert.Equal([second], store.List([JobState.Cancelled], 10).Select(j => j.Id));
        }
    }

    [Fact]
    public void A_jobs_db_from_before_workers_and_leases_opens_and_records_them()
    {
        using var temp = new TempDir();
        string db = temp.Sub("jobs.db");
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=false"))
        {
            old.Open();
            using var cmd = old.CreateCommand();
            cmd.CommandText = """
                CREATE TABLE jobs (id TEXT PRIMARY KEY, state INTEGER NOT NULL, request BLOB NOT NULL, created INTEGER NOT NULL,
                    started INTEGER NOT NULL DEFAULT 0, finished INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '',
                    epoch INTEGER NOT NULL DEFAULT 0, progress REAL NOT NULL DEFAULT 0, resumes INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE job_events (job_id TEXT NOT NULL, seq INTEGER NOT NULL, event BLOB NOT NULL, PRIMARY KEY (job_id, seq));
                INSERT INTO jobs (id, state, request, created) VALUES ('job-old', 1, x'', 1);
                """;
            cmd.ExecuteNonQuery();
        }
        using var store = new JobStore(db);
        Assert.Equal(("", 0), (store.Find("job-old")!.Worker, store.Find("job-old")!.Attempts));
        var claimed = store.ClaimNext("gpu01", TimeSpan.FromSeconds(30))!;
        Assert.Equal(("job-old", "gpu01", 1), (claimed.Id, claimed.Worker, claimed.Attempts));
        Assert.Empty(store.RenewLeases("gpu01", ["job-old"], TimeSpan.FromSeconds(30)));
        Assert.Equal(["job-old"], store.RenewLeases("someone-else", ["job-old"], TimeSpan.FromSeconds(30)));
    }
}
