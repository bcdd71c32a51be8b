using Edu.V1;
using Edu.Worker.Configuration;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Edu.Worker.Jobs;

/// <summary>
/// Training jobs and their events in one SQLite file (<c>DATA/jobs.db</c>, WAL journal): what a restart
/// reads back. Every change is one transaction, so a SIGKILL leaves either the old or the new state. The file belongs
/// to one worker: leases are recorded but only <see cref="PostgresJobStore"/> is shared by several workers.
/// </summary>
public sealed class JobStore : IJobStore
{
    private readonly SqliteConnection _connection;
    private readonly object _gate = new();

    /// <summary>Opens (creating if needed) <c>jobs.db</c> in the data folder.</summary>
    public JobStore(IOptions<WorkerOptions> options) : this(System.IO.Path.Combine(System.IO.Path.GetFullPath(options.Value.DataPath), "jobs.db")) { }

    /// <summary>Opens (creating if needed) the database at <paramref name="path"/>.</summary>
    public JobStore(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        DatabasePath = path;
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL;");
        Execute("PRAGMA busy_timeout=5000;");
        Execute("""
            CREATE TABLE IF NOT EXISTS jobs (
                id TEXT PRIMARY KEY,
                state INTEGER NOT NULL,
                request BLOB NOT NULL,
                created INTEGER NOT NULL,
                started INTEGER NOT NULL DEFAULT 0,
                finished INTEGER NOT NULL DEFAULT 0,
                reason TEXT NOT NULL DEFAULT '',
                epoch INTEGER NOT NULL DEFAULT 0,
                progress REAL NOT NULL DEFAULT 0,
                resumes INTEGER NOT NULL DEFAULT 0,
                worker TEXT NOT NULL DEFAULT '',
                lease_until INTEGER NOT NULL DEFAULT 0,
                attempts INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS job_events (
                job_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                event BLOB NOT NULL,
                PRIMARY KEY (job_id, seq));
            """);
        // files written before jobs had a worker and a lease
        foreach (var (column, definition) in new[] { ("worker", "TEXT NOT NULL DEFAULT ''"), ("lease_until", "INTEGER NOT NULL DEFAULT 0"), ("attempts", "INTEGER NOT NULL DEFAULT 0"),
                     ("req_device", "TEXT NOT NULL DEFAULT ''"), ("req_memory_mb", "INTEGER NOT NULL DEFAULT 0") })
            if (Scalar("SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name = $c", null, ("$c", column)) == 0)
                Execute($"ALTER TABLE jobs ADD COLUMN {column} {definition}");
    }

    /// <inheritdoc />
    public string Describe => $"SQLite {DatabasePath}";

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Adds a queued job and its <c>queued</c> event.</summary>
    public Job Create(StartTrainingRequest request)
    {
        var job = JobFactory.NewQueued(request);
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            using (var cmd = Command("INSERT INTO jobs (id, state, request, created, req_device, req_memory_mb) VALUES ($id, $state, $request, $created, $device, $memory)", tx))
            {
                cmd.Parameters.AddWithValue("$device", (request.Requirements?.DeviceKind ?? "").ToLowerInvariant());
                cmd.Parameters.AddWithValue("$memory", request.Requirements?.MinMemoryMb ?? 0L);
                cmd.Parameters.AddWithValue("$id", job.Id);
                cmd.Parameters.AddWithValue("$state", (int)job.State);
                cmd.Parameters.AddWithValue("$request", request.ToByteArray());
                cmd.Parameters.AddWithValue("$created", job.CreatedUnixMs);
                cmd.ExecuteNonQuery();
            }
            long position = Scalar("SELECT COUNT(*) FROM jobs WHERE state = $s", tx, ("$s", (int)JobState.Queued));
            AppendEventLocked(job.Id, new JobEvent { Queued = new JobQueued { Position = (int)position } }, tx);
            tx.Commit();
        }
        return job;
    }

    /// <summary>The job, or null.</summary>
    public Job? Find(string id)
    {
        lock (_gate)
        {
            using var cmd = Command($"SELECT {Columns} FROM jobs WHERE id = $id");
            cmd.Parameters.AddWithValue("$id", id);
            using var reader = cmd.ExecuteReader();
            return reader.Read() ? JobFactory.Read(reader) : null;
        }
    }

    /// <summary>Jobs, newest first, optionally only in <paramref name="states"/>.</summary>
    public IReadOnlyList<Job> List(IReadOnlyCollection<JobState> states, int limit)
    {
        lock (_gate)
        {
            string where = states.Count == 0 ? "" : $"WHERE state IN ({string.Join(",", states.Select(s => (int)s))})";
            using var cmd = Command($"SELECT {Columns} FROM jobs {where} ORDER BY created DESC, rowid DESC LIMIT $limit");
            cmd.Parameters.AddWithValue("$limit", limit);
            using var reader = cmd.ExecuteReader();
            var jobs = new List<Job>();
            while (reader.Read()) jobs.Add(JobFactory.Read(reader));
            return jobs;
        }
    }

    /// <summary>Jobs per state.</summary>
    public IReadOnlyDictionary<JobState, long> CountByState()
    {
        lock (_gate)
        {
            using var cmd = Command("SELECT state, COUNT(*) FROM jobs GROUP BY state");
            using var reader = cmd.ExecuteReader();
            var counts = new Dictionary<JobState, long>();
            while (reader.Read()) counts[(JobState)reader.GetInt32(0)] = reader.GetInt64(1);
            return counts;
        }
    }

    /// <summary>Marks the oldest queued job running (on this machine) and returns it; null when none is queued.</summary>
    public Job? ClaimNext() => ClaimNext(Environment.MachineName, TimeSpan.FromMinutes(1));

    /// <inheritdoc />
    public Job? ClaimNext(string workerId, TimeSpan lease, WorkerCapabilities? capabilities = null)
    {
        var can = capabilities ?? WorkerCapabilities.Any;
        string? id;
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            using (var cmd = Command("""
                SELECT id FROM jobs WHERE state = $q AND (req_device = '' OR $kind = '' OR req_device = $kind) AND req_memory_mb <= $memory
                ORDER BY created, rowid LIMIT 1
                """, tx))
            {
                cmd.Parameters.AddWithValue("$q", (int)JobState.Queued);
                cmd.Parameters.AddWithValue("$kind", can.DeviceKind.ToLowerInvariant());
                cmd.Parameters.AddWithValue("$memory", can.MemoryMb);
                id = cmd.ExecuteScalar() as string;
            }
            if (id is null) return null;
            using (var cmd = Command("UPDATE jobs SET state = $r, started = CASE WHEN started = 0 THEN $t ELSE started END, worker = $w, lease_until = $until, attempts = attempts + 1 WHERE id = $id", tx))
            {
                cmd.Parameters.AddWithValue("$r", (int)JobState.Running);
                cmd.Parameters.AddWithValue("$t", Now());
                cmd.Parameters.AddWithValue("$w", workerId);
                cmd.Parameters.AddWithValue("$until", Now() + (long)lease.TotalMilliseconds);
                cmd.Parameters.AddWithValue("$id", id);
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
        }
        return Find(id);
    }

    /// <summary>
    /// Jobs left running by a previous process (it was killed or stopped): back to queued, with
    /// <c>resumes</c> counted, so the scheduler runs them again (from their last checkpoint).
    /// </summary>
    public IReadOnlyList<string> RequeueInterrupted() => RequeueInterrupted(Environment.MachineName);

    /// <inheritdoc />
    /// <remarks>The file is this worker's alone: every job left running is its own, whatever name it ran under.</remarks>
    public IReadOnlyList<string> RequeueInterrupted(string workerId)
    {
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            var ids = new List<string>();
            using (var cmd = Command("SELECT id FROM jobs WHERE state = $r", tx))
            {
                cmd.Parameters.AddWithValue("$r", (int)JobState.Running);
                using var reader = cmd.ExecuteReader();
                while (reader.Read()) ids.Add(reader.GetString(0));
            }
            foreach (var id in ids)
                RequeueLocked(id, tx);
            tx.Commit();
            return ids;
        }
    }

    /// <summary>Puts a running job back in the queue (the worker is stopping); it resumes on the next start.</summary>
    public void Requeue(string id)
    {
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            RequeueLocked(id, tx);
            tx.Commit();
        }
    }

    private void RequeueLocked(string id, SqliteTransaction tx)
    {
        using var cmd = Command("UPDATE jobs SET state = $q, resumes = resumes + 1 WHERE id = $id AND state = $r", tx);
        cmd.Parameters.AddWithValue("$q", (int)JobState.Queued);
        cmd.Parameters.AddWithValue("$r", (int)JobState.Running);
        cmd.Parameters.AddWithValue("$id", id);
        cmd.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public IReadOnlyList<string> RenewLeases(string workerId, IReadOnlyCollection<string> jobIds, TimeSpan lease)
    {
        lock (_gate)
        {
            var lost = new List<string>();
            foreach (string id in jobIds)
            {
                using var cmd = Command("UPDATE jobs SET lease_until = $until WHERE id = $id AND worker = $w AND state = $r");
                cmd.Parameters.AddWithValue("$until", Now() + (long)lease.TotalMilliseconds);
                cmd.Parameters.AddWithValue("$id", id);
                cmd.Parameters.AddWithValue("$w", workerId);
                cmd.Parameters.AddWithValue("$r", (int)JobState.Running);
                if (cmd.ExecuteNonQuery() == 0) lost.Add(id);
            }
            return lost;
        }
    }

    /// <summary>Records progress of a running job.</summary>
    public void SetProgress(string id, int epoch, double progress)
    {
        lock (_gate)
        {
            using var cmd = Command("UPDATE jobs SET epoch = $e, progress = $p WHERE id = $id");
            cmd.Parameters.AddWithValue("$e", epoch);
            cmd.Parameters.AddWithValue("$p", progress);
            cmd.Parameters.AddWithValue("$id", id);
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Ends a job in a final state with its last event, in one transaction; false (and nothing written) when the
    /// job already ended or, with <paramref name="onlyIfQueued"/>, when it is not queued.
    /// </summary>
    public bool Finish(string id, JobState state, string reason, JobEvent finalEvent, bool onlyIfQueued = false, string? heldBy = null)
    {
        ArgumentNullException.ThrowIfNull(finalEvent);
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            string condition = onlyIfQueued ? $"state = {(int)JobState.Queued}" : $"state IN ({(int)JobState.Queued},{(int)JobState.Running})";
            if (heldBy is not null) condition += " AND worker = $worker";
            using (var cmd = Command($"UPDATE jobs SET state = $s, reason = $reason, finished = $t{(state == JobState.Succeeded ? ", progress = 1" : "")} WHERE id = $id AND {condition}", tx))
            {
                cmd.Parameters.AddWithValue("$worker", heldBy ?? "");
                cmd.Parameters.AddWithValue("$s", (int)state);
                cmd.Parameters.AddWithValue("$reason", reason);
                cmd.Parameters.AddWithValue("$t", Now());
                cmd.Parameters.AddWithValue("$id", id);
                if (cmd.ExecuteNonQuery() == 0) return false;
            }
            AppendEventLocked(id, finalEvent, tx);
            tx.Commit();
            return true;
        }
    }

    /// <summary>Appends an event (sequence and time are set here) and returns it.</summary>
    public JobEvent AppendEvent(string id, JobEvent jobEvent)
    {
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            var stored = AppendEventLocked(id, jobEvent, tx);
            tx.Commit();
            return stored;
        }
    }

    /// <summary>Events of a job after <paramref name="afterSequence"/>, in order.</summary>
    public IReadOnlyList<JobEvent> Events(string id, long afterSequence)
    {
        lock (_gate)
        {
            using var cmd = Command("SELECT event FROM job_events WHERE job_id = $id AND seq > $after ORDER BY seq");
            cmd.Parameters.AddWithValue("$id", id);
            cmd.Parameters.AddWithValue("$after", afterSequence);
            using var reader = cmd.ExecuteReader();
            var events = new List<JobEvent>();
            while (reader.Read()) events.Add(JobEvent.Parser.ParseFrom((byte[])reader.GetValue(0)));
            return events;
        }
    }

    private JobEvent AppendEventLocked(string id, JobEvent jobEvent, SqliteTransaction tx)
    {
        long seq = Scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = $id", tx, ("$id", id));
        var stored = jobEvent.Clone();
        stored.JobId = id;
        stored.Sequence = seq;
        stored.TimeUnixMs = Now();
        using var cmd = Command("INSERT INTO job_events (job_id, seq, event) VALUES ($id, $seq, $event)", tx);
        cmd.Parameters.AddWithValue("$id", id);
        cmd.Parameters.AddWithValue("$seq", seq);
        cmd.Parameters.AddWithValue("$event", stored.ToByteArray());
        cmd.ExecuteNonQuery();
        return stored;
    }

    private const string Columns = JobFactory.Columns;


    private SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        return cmd;
    }

    private long Scalar(string sql, SqliteTransaction? tx, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(sql, tx);
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private void Execute(string sql)
    {
        using var cmd = Command(sql);
        cmd.ExecuteNonQuery();
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate) _connection.Dispose();
    }
}
