using Edu.V1;
using Google.Protobuf;
using Npgsql;

namespace Edu.Worker.Jobs;

/// <summary>
/// Training jobs on PostgreSQL (<c>Worker:JobStore</c> = a connection string): one queue for every worker that uses the
/// same database. A job is claimed with <c>FOR UPDATE SKIP LOCKED</c>, so two workers never take the same one, and held
/// under a lease the running worker renews; when a worker dies its leases run out and another worker claims its jobs,
/// which resume from their checkpoints. Writes of a job's end are fenced: a worker that lost the lease cannot finish it.
/// </summary>
public sealed class PostgresJobStore : IJobStore
{
    private const string Columns = JobFactory.Columns;
    private readonly NpgsqlDataSource _source;

    /// <summary>Connects to <paramref name="connectionString"/> and creates the tables when they are missing.</summary>
    /// A connection string it cannot parse, or a database it cannot reach or write, is an
    /// <see cref="Abstractions.Errors.InvalidInputException"/> naming the host and database (never the password).
    public PostgresJobStore(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new Abstractions.Errors.InvalidInputException("the job store's connection string", $"is not a PostgreSQL connection string ({e.Message})");
        }
        Describe = $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
        _source = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            CreateTables();
        }
        catch (NpgsqlException e)
        {
            _source.Dispose();
            throw new Abstractions.Errors.InvalidInputException($"job store {Describe}", $"cannot be used: {e.Message}");
        }
    }

    private void CreateTables()
    {
        using var connection = _source.OpenConnection();
        // two workers starting together: the advisory lock makes the first create the tables while the other waits
        Execute(connection, null, """
            SELECT pg_advisory_lock(4711001);
            CREATE TABLE IF NOT EXISTS edu_jobs (
                id TEXT PRIMARY KEY,
                state INTEGER NOT NULL,
                request BYTEA NOT NULL,
                created BIGINT NOT NULL,
                started BIGINT NOT NULL DEFAULT 0,
                finished BIGINT NOT NULL DEFAULT 0,
                reason TEXT NOT NULL DEFAULT '',
                epoch INTEGER NOT NULL DEFAULT 0,
                progress DOUBLE PRECISION NOT NULL DEFAULT 0,
                resumes INTEGER NOT NULL DEFAULT 0,
                worker TEXT NOT NULL DEFAULT '',
                lease_until BIGINT NOT NULL DEFAULT 0,
                attempts INTEGER NOT NULL DEFAULT 0,
                req_device TEXT NOT NULL DEFAULT '',
                req_memory_mb BIGINT NOT NULL DEFAULT 0,
                seq BIGSERIAL);
            CREATE INDEX IF NOT EXISTS edu_jobs_claim ON edu_jobs (state, created, seq);
            CREATE TABLE IF NOT EXISTS edu_job_events (
                job_id TEXT NOT NULL REFERENCES edu_jobs (id),
                seq BIGINT NOT NULL,
                event BYTEA NOT NULL,
                PRIMARY KEY (job_id, seq));
            SELECT pg_advisory_unlock(4711001);
            """);
    }

    /// <inheritdoc />
    public string Describe { get; }

    /// <inheritdoc />
    public Job Create(StartTrainingRequest request)
    {
        var job = JobFactory.NewQueued(request);
        using var connection = _source.OpenConnection();
        using var tx = connection.BeginTransaction();
        Execute(connection, tx, "INSERT INTO edu_jobs (id, state, request, created, req_device, req_memory_mb) VALUES (@id, @state, @request, @created, @device, @memory)",
            ("id", job.Id), ("state", (int)job.State), ("request", request.ToByteArray()), ("created", job.CreatedUnixMs),
            ("device", (request.Requirements?.DeviceKind ?? "").ToLowerInvariant()), ("memory", request.Requirements?.MinMemoryMb ?? 0L));
        long position = Scalar(connection, tx, "SELECT COUNT(*) FROM edu_jobs WHERE state = @s", ("s", (int)JobState.Queued));
        AppendEvent(connection, tx, job.Id, new JobEvent { Queued = new JobQueued { Position = (int)position } });
        tx.Commit();
        return job;
    }

    /// <inheritdoc />
    public Job? Find(string id)
    {
        using var connection = _source.OpenConnection();
        return Jobs(connection, null, $"SELECT {Columns} FROM edu_jobs WHERE id = @id", ("id", id)).FirstOrDefault();
    }

    /// <inheritdoc />
    public IReadOnlyList<Job> List(IReadOnlyCollection<JobState> states, int limit)
    {
        using var connection = _source.OpenConnection();
        return states.Count == 0
            ? Jobs(connection, null, $"SELECT {Columns} FROM edu_jobs ORDER BY created DESC, seq DESC LIMIT @limit", ("limit", limit))
            : Jobs(connection, null, $"SELECT {Columns} FROM edu_jobs WHERE state = ANY(@states) ORDER BY created DESC, seq DESC LIMIT @limit",
                ("states", states.Select(s => (int)s).ToArray()), ("limit", limit));
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<JobState, long> CountByState()
    {
        using var connection = _source.OpenConnection();
        using var cmd = Command(connection, null, "SELECT state, COUNT(*) FROM edu_jobs GROUP BY state");
        using var reader = cmd.ExecuteReader();
        var counts = new Dictionary<JobState, long>();
        while (reader.Read()) counts[(JobState)reader.GetInt32(0)] = reader.GetInt64(1);
        return counts;
    }

    /// <inheritdoc />
    public Job? ClaimNext(string workerId, TimeSpan lease, WorkerCapabilities? capabilities = null)
    {
        long now = Now();
        var can = capabilities ?? WorkerCapabilities.Any;
        using var connection = _source.OpenConnection();
        // a job taken over from a dead worker (running, lease out) counts one more resume
        return Jobs(connection, null, $"""
            UPDATE edu_jobs SET state = @running, worker = @worker, lease_until = @until, attempts = attempts + 1,
                started = CASE WHEN started = 0 THEN @now ELSE started END,
                resumes = resumes + CASE WHEN state = @running THEN 1 ELSE 0 END
            WHERE id = (SELECT id FROM edu_jobs
                        WHERE (state = @queued OR (state = @running AND lease_until < @now))
                          AND (req_device = '' OR @kind = '' OR req_device = @kind) AND req_memory_mb <= @memory
                        ORDER BY created, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING {Columns}
            """, ("running", (int)JobState.Running), ("queued", (int)JobState.Queued), ("worker", workerId),
            ("until", now + (long)lease.TotalMilliseconds), ("now", now), ("kind", can.DeviceKind.ToLowerInvariant()), ("memory", can.MemoryMb)).FirstOrDefault();
    }

    /// <inheritdoc />
    public IReadOnlyList<string> RenewLeases(string workerId, IReadOnlyCollection<string> jobIds, TimeSpan lease)
    {
        if (jobIds.Count == 0) return [];
        using var connection = _source.OpenConnection();
        using var cmd = Command(connection, null, "UPDATE edu_jobs SET lease_until = @until WHERE id = ANY(@ids) AND worker = @worker AND state = @running RETURNING id",
            ("until", Now() + (long)lease.TotalMilliseconds), ("ids", jobIds.ToArray()), ("worker", workerId), ("running", (int)JobState.Running));
        var held = new HashSet<string>();
        using (var reader = cmd.ExecuteReader())
            while (reader.Read()) held.Add(reader.GetString(0));
        return jobIds.Where(id => !held.Contains(id)).ToList();
    }

    /// <inheritdoc />
    public IReadOnlyList<string> RequeueInterrupted(string workerId)
    {
        using var connection = _source.OpenConnection();
        using var cmd = Command(connection, null, "UPDATE edu_jobs SET state = @queued, resumes = resumes + 1, worker = '' WHERE state = @running AND worker = @worker RETURNING id",
            ("queued", (int)JobState.Queued), ("running", (int)JobState.Running), ("worker", workerId));
        using var reader = cmd.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read()) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <inheritdoc />
    public void Requeue(string id)
    {
        using var connection = _source.OpenConnection();
        Execute(connection, null, "UPDATE edu_jobs SET state = @queued, resumes = resumes + 1, worker = '' WHERE id = @id AND state = @running",
            ("queued", (int)JobState.Queued), ("running", (int)JobState.Running), ("id", id));
    }

    /// <inheritdoc />
    public void SetProgress(string id, int epoch, double progress)
    {
        using var connection = _source.OpenConnection();
        Execute(connection, null, "UPDATE edu_jobs SET epoch = @e, progress = @p WHERE id = @id", ("e", epoch), ("p", progress), ("id", id));
    }

    /// <inheritdoc />
    public bool Finish(string id, JobState state, string reason, JobEvent finalEvent, bool onlyIfQueued = false, string? heldBy = null)
    {
        ArgumentNullException.ThrowIfNull(finalEvent);
        using var connection = _source.OpenConnection();
        using var tx = connection.BeginTransaction();
        string condition = onlyIfQueued ? $"state = {(int)JobState.Queued}" : $"state IN ({(int)JobState.Queued},{(int)JobState.Running})";
        if (heldBy is not null) condition += " AND worker = @worker";
        int changed = Execute(connection, tx,
            $"UPDATE edu_jobs SET state = @s, reason = @reason, finished = @t{(state == JobState.Succeeded ? ", progress = 1" : "")} WHERE id = @id AND {condition}",
            ("s", (int)state), ("reason", reason), ("t", Now()), ("id", id), ("worker", heldBy ?? ""));
        if (changed == 0) return false;
        AppendEvent(connection, tx, id, finalEvent);
        tx.Commit();
        return true;
    }

    /// <inheritdoc />
    public JobEvent AppendEvent(string id, JobEvent jobEvent)
    {
        using var connection = _source.OpenConnection();
        using var tx = connection.BeginTransaction();
        var stored = AppendEvent(connection, tx, id, jobEvent);
        tx.Commit();
        return stored;
    }

    /// <inheritdoc />
    public IReadOnlyList<JobEvent> Events(string id, long afterSequence)
    {
        using var connection = _source.OpenConnection();
        using var cmd = Command(connection, null, "SELECT event FROM edu_job_events WHERE job_id = @id AND seq > @after ORDER BY seq", ("id", id), ("after", afterSequence));
        using var reader = cmd.ExecuteReader();
        var events = new List<JobEvent>();
        while (reader.Read()) events.Add(JobEvent.Parser.ParseFrom((byte[])reader.GetValue(0)));
        return events;
    }

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();

    // the job's row is locked first, so two appends to one job (its worker, a cancel) number their events one after the other
    private static JobEvent AppendEvent(NpgsqlConnection connection, NpgsqlTransaction tx, string id, JobEvent jobEvent)
    {
        Execute(connection, tx, "SELECT 1 FROM edu_jobs WHERE id = @id FOR UPDATE", ("id", id));
        long seq = Scalar(connection, tx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM edu_job_events WHERE job_id = @id", ("id", id));
        var stored = jobEvent.Clone();
        stored.JobId = id;
        stored.Sequence = seq;
        stored.TimeUnixMs = Now();
        Execute(connection, tx, "INSERT INTO edu_job_events (job_id, seq, event) VALUES (@id, @seq, @event)", ("id", id), ("seq", seq), ("event", stored.ToByteArray()));
        return stored;
    }

    private static List<Job> Jobs(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(connection, tx, sql, parameters);
        using var r = cmd.ExecuteReader();
        var jobs = new List<Job>();
        while (r.Read()) jobs.Add(JobFactory.Read(r));
        return jobs;
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        var cmd = new NpgsqlCommand(sql, connection, tx);
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        return cmd;
    }

    private static int Execute(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(connection, tx, sql, parameters);
        return cmd.ExecuteNonQuery();
    }

    private static long Scalar(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(connection, tx, sql, parameters);
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
