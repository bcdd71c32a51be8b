using Edu.V1;

namespace Edu.Worker.Jobs;

/// <summary>
/// Where training jobs and their events live: <see cref="JobStore"/> (SQLite, one worker, the default) or
/// <see cref="PostgresJobStore"/> (one queue for many workers). A worker claims a job under a lease it renews while the
/// job runs; a job whose lease ran out (its worker died) is claimed again by another worker and resumes from its
/// checkpoint.
/// </summary>
public interface IJobStore : IDisposable
{
    /// <summary>The engine and where it is, for logs ("SQLite /data/jobs.db", "PostgreSQL db01:5432/edu").</summary>
    string Describe { get; }

    /// <summary>Adds a queued job and its <c>queued</c> event.</summary>
    Job Create(StartTrainingRequest request);

    /// <summary>The job, or null.</summary>
    Job? Find(string id);

    /// <summary>Jobs, newest first, optionally only in <paramref name="states"/>.</summary>
    IReadOnlyList<Job> List(IReadOnlyCollection<JobState> states, int limit);

    /// <summary>Jobs per state.</summary>
    IReadOnlyDictionary<JobState, long> CountByState();

    /// <summary>
    /// The oldest job that is queued, or running under a lease that ran out, and whose requirements
    /// <paramref name="capabilities"/> meet (null: any job), now running on <paramref name="workerId"/> until
    /// <paramref name="lease"/> from now; null when there is none.
    /// </summary>
    Job? ClaimNext(string workerId, TimeSpan lease, WorkerCapabilities? capabilities = null);

    /// <summary>Extends the leases of <paramref name="jobIds"/> held by <paramref name="workerId"/>; returns those it no longer holds.</summary>
    IReadOnlyList<string> RenewLeases(string workerId, IReadOnlyCollection<string> jobIds, TimeSpan lease);

    /// <summary>Jobs this worker left running when it last stopped (killed or stopped): back to queued, resumes counted.</summary>
    IReadOnlyList<string> RequeueInterrupted(string workerId);

    /// <summary>Puts a running job back in the queue (the worker is stopping); it resumes on the next claim.</summary>
    void Requeue(string id);

    /// <summary>Records progress of a running job.</summary>
    void SetProgress(string id, int epoch, double progress);

    /// <summary>
    /// Ends a job in a final state with its last event, in one transaction; false (and nothing written) when the job
    /// already ended, when <paramref name="onlyIfQueued"/> and it is not queued, or when <paramref name="heldBy"/> is
    /// given and that worker no longer holds it.
    /// </summary>
    bool Finish(string id, JobState state, string reason, JobEvent finalEvent, bool onlyIfQueued = false, string? heldBy = null);

    /// <summary>Appends an event (sequence and time are set here) and returns it.</summary>
    JobEvent AppendEvent(string id, JobEvent jobEvent);

    /// <summary>Events of a job after <paramref name="afterSequence"/>, in order.</summary>
    IReadOnlyList<JobEvent> Events(string id, long afterSequence);
}

/// <summary>How both job stores make a job, and read one back.</summary>
internal static class JobFactory
{
    /// <summary>The job columns, in the order <see cref="Read"/> reads them.</summary>
    public const string Columns = "id, state, request, created, started, finished, reason, epoch, progress, resumes, worker, attempts";

    /// <summary>The job on the current row of <paramref name="r"/> (selected as <see cref="Columns"/>).</summary>
    public static Job Read(System.Data.Common.DbDataReader r) => new()
    {
        Id = r.GetString(0),
        State = (JobState)r.GetInt32(1),
        Request = StartTrainingRequest.Parser.ParseFrom((byte[])r.GetValue(2)),
        CreatedUnixMs = r.GetInt64(3),
        StartedUnixMs = r.GetInt64(4),
        FinishedUnixMs = r.GetInt64(5),
        Reason = r.GetString(6),
        Epoch = r.GetInt32(7),
        Progress = r.GetDouble(8),
        Resumes = r.GetInt32(9),
        Worker = r.GetString(10),
        Attempts = r.GetInt32(11),
    };

    /// <summary>A new queued job for <paramref name="request"/>: an id that sorts by time and cannot collide, created now.</summary>
    public static Job NewQueued(StartTrainingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Job
        {
            Id = $"job-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}",
            State = JobState.Queued,
            Request = request,
            CreatedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        };
    }
}
