using System.Text.Json;
using Edu.Gateway.Routing;
using Microsoft.Data.Sqlite;

namespace Edu.Gateway.State;

/// <summary>
/// The gateway's memory: one row per series and model in a SQLite file (WAL journal). Each change is one transaction,
/// so after a <c>kill -9</c> the gateway reads back exactly where every series was. The idempotency key is
/// (SeriesInstanceUID, model, version): a series whose SEG is stored is never sent again for the same model.
/// </summary>
public sealed class GatewayStateStore : IDisposable
{
    private const string Columns = "id, study_uid, series_uid, model, version, rule, state, attempts, last_error, arrived, last_activity, updated, next_attempt, seg_uid, facts, local_folder, seg_file, timings";
    private readonly SqliteConnection _connection;
    private readonly object _gate = new();
    private readonly Func<long> _now;

    /// <summary>Opens (creating if needed) the state file at <paramref name="path"/>; <paramref name="clock"/> gives Unix ms (tests).</summary>
    public GatewayStateStore(string path, Func<long>? clock = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _now = clock ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;");
        Execute("""
            CREATE TABLE IF NOT EXISTS series (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                study_uid TEXT NOT NULL,
                series_uid TEXT NOT NULL,
                model TEXT NOT NULL DEFAULT '',
                version TEXT NOT NULL DEFAULT '',
                rule TEXT NOT NULL DEFAULT '',
                state INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT NOT NULL DEFAULT '',
                arrived INTEGER NOT NULL,
                last_activity INTEGER NOT NULL,
                updated INTEGER NOT NULL,
                next_attempt INTEGER NOT NULL DEFAULT 0,
                seg_uid TEXT NOT NULL DEFAULT '',
                facts TEXT NOT NULL DEFAULT '{}',
                local_folder TEXT NOT NULL DEFAULT '',
                complete INTEGER NOT NULL DEFAULT 0,
                seg_file TEXT NOT NULL DEFAULT '',
                timings TEXT NOT NULL DEFAULT '',
                UNIQUE (series_uid, model, version));
            CREATE INDEX IF NOT EXISTS series_state ON series (state, next_attempt);
            CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS polled_series (series_uid TEXT PRIMARY KEY, instances INTEGER NOT NULL);
            """);
    }

    /// <summary>
    /// Records that instances of a series arrived: a new row in <see cref="SeriesState.Received"/>, or, while it is still
    /// being received, its activity time moved on. A series seen again after it was routed or skipped is received anew
    /// (routing decides once more, and a stored model/version pair is not repeated).
    /// <paramref name="localFolder"/>: where the gateway keeps the series' files (received by its own C-STORE SCP);
    /// empty when they stay in the PACS and are fetched with WADO-RS. <paramref name="complete"/>: the source says the
    /// series is whole (Orthanc's stable series), so no quiet time is waited.
    /// </summary>
    public SeriesRecord Receive(SeriesFacts facts, string localFolder = "", bool complete = false)
    {
        long now = _now();
        string json = JsonSerializer.Serialize(facts);
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            var pending = Query($"SELECT {Columns} FROM series WHERE series_uid = $s AND model = '' AND version = ''", tx, ("$s", facts.SeriesInstanceUid)).FirstOrDefault();
            if (pending is null)
                Execute("""
                    INSERT INTO series (study_uid, series_uid, state, arrived, last_activity, updated, facts, local_folder, complete)
                    VALUES ($study, $s, $state, $now, $now, $now, $facts, $folder, $complete)
                    """, tx, ("$study", facts.StudyInstanceUid), ("$s", facts.SeriesInstanceUid), ("$state", (int)SeriesState.Received), ("$now", now),
                    ("$facts", json), ("$folder", localFolder), ("$complete", complete ? 1 : 0));
            else
                Execute("UPDATE series SET state = $state, last_activity = $now, updated = $now, facts = $facts, last_error = '', local_folder = $folder, complete = $complete WHERE id = $id",
                    tx, ("$state", (int)SeriesState.Received), ("$now", now), ("$facts", json), ("$folder", localFolder), ("$complete", complete ? 1 : 0), ("$id", pending.Id));
            var row = Query($"SELECT {Columns} FROM series WHERE series_uid = $s AND model = '' AND version = ''", tx, ("$s", facts.SeriesInstanceUid)).Single();
            tx.Commit();
            return row;
        }
    }

    /// <summary>Received series whose last instance came at least <paramref name="quiet"/> ago, or that their source called complete: ready to route.</summary>
    public IReadOnlyList<SeriesRecord> QuietSeries(TimeSpan quiet)
    {
        lock (_gate)
            return Query($"SELECT {Columns} FROM series WHERE state = $state AND (complete = 1 OR last_activity <= $before) ORDER BY last_activity",
                null, ("$state", (int)SeriesState.Received), ("$before", _now() - (long)quiet.TotalMilliseconds));
    }

    /// <summary>
    /// Applies a routing decision to a received series. Skipped: recorded with the reason. Routed: the row takes the
    /// model and version, unless that series already has a row for them (stored, failed or in progress), which is
    /// returned instead and the new arrival dropped: the idempotency key.
    /// </summary>
    public SeriesRecord Route(long id, RouteDecision decision)
    {
        long now = _now();
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            var row = Get(id, tx);
            SeriesRecord result;
            if (decision.Rule is not { } rule)
            {
                Execute("UPDATE series SET state = $state, last_error = $why, updated = $now WHERE id = $id",
                    tx, ("$state", (int)SeriesState.Skipped), ("$why", decision.SkipReason ?? ""), ("$now", now), ("$id", id));
                result = Get(id, tx);
            }
            else if (Query($"SELECT {Columns} FROM series WHERE series_uid = $s AND model = $m AND version = $v", tx,
                         ("$s", row.SeriesInstanceUid), ("$m", rule.Model), ("$v", rule.Version)).FirstOrDefault() is { } existing)
            {
                Execute("DELETE FROM series WHERE id = $id", tx, ("$id", id));
                result = existing;
            }
            else
            {
                Execute("UPDATE series SET state = $state, model = $m, version = $v, rule = $rule, updated = $now, next_attempt = 0 WHERE id = $id",
                    tx, ("$state", (int)SeriesState.Routed), ("$m", rule.Model), ("$v", rule.Version), ("$rule", rule.Name), ("$now", now), ("$id", id));
                result = Get(id, tx);
            }
            tx.Commit();
            return result;
        }
    }

    /// <summary>The next series to segment (routed, or failed and due again), oldest first, now marked segmenting with one more attempt; null when none.</summary>
    public SeriesRecord? ClaimNext()
    {
        long now = _now();
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            var next = Query($"""
                SELECT {Columns} FROM series
                WHERE state = $routed OR (state = $failed AND next_attempt <= $now)
                ORDER BY arrived LIMIT 1
                """, tx, ("$routed", (int)SeriesState.Routed), ("$failed", (int)SeriesState.Failed), ("$now", now)).FirstOrDefault();
            if (next is null) return null;
            Execute("UPDATE series SET state = $state, attempts = attempts + 1, updated = $now WHERE id = $id",
                tx, ("$state", (int)SeriesState.Segmenting), ("$now", now), ("$id", next.Id));
            var claimed = Get(next.Id, tx);
            tx.Commit();
            return claimed;
        }
    }

    /// <summary>
    /// The SEG of a segmenting series is made and kept at <paramref name="segFile"/>: from now on every attempt, after a
    /// restart too, exports this same file (same SOP Instance UID, which a PACS stores once) instead of segmenting again.
    /// </summary>
    public SeriesRecord RecordSeg(long id, string segFile, string segInstanceUid)
    {
        lock (_gate)
        {
            var row = Get(id, null);
            if (row.State != SeriesState.Segmenting)
                throw new InvalidOperationException($"series row {id} is {row.State}, not Segmenting: only a claimed series has a SEG made");
            Execute("UPDATE series SET seg_file = $file, seg_uid = $uid, updated = $now WHERE id = $id",
                null, ("$file", segFile), ("$uid", segInstanceUid), ("$now", _now()), ("$id", id));
            return Get(id, null);
        }
    }

    /// <summary>The SEG of a segmenting series is stored in the PACS.</summary>
    public SeriesRecord MarkStored(long id, string segInstanceUid, string timingsJson = "")
    {
        var row = Finish(id, SeriesState.Stored, "", segInstanceUid, 0);
        lock (_gate)
            Execute("UPDATE series SET timings = $t, seg_file = '' WHERE id = $id", null, ("$t", timingsJson), ("$id", id));
        lock (_gate) return Get(id, null);
    }

    /// <summary>
    /// An attempt failed: failed again after <paramref name="retryDelay"/>, or dead-lettered once
    /// <paramref name="maxAttempts"/> attempts have failed (or at once when the error is <paramref name="permanent"/>).
    /// </summary>
    public SeriesRecord MarkFailed(long id, string error, int maxAttempts, TimeSpan retryDelay, bool permanent = false)
    {
        SeriesRecord row;
        lock (_gate) row = Get(id, null);
        bool dead = permanent || row.Attempts >= maxAttempts;
        return Finish(id, dead ? SeriesState.DeadLetter : SeriesState.Failed, error, row.SegInstanceUid, dead ? 0 : _now() + (long)retryDelay.TotalMilliseconds);
    }

    /// <summary>A value the gateway keeps across restarts (Orthanc's change sequence number); null when never set.</summary>
    public string? GetCursor(string name)
    {
        lock (_gate)
        {
            using var cmd = Command("SELECT value FROM cursors WHERE name = $n", null, ("$n", name));
            return cmd.ExecuteScalar() as string;
        }
    }

    /// <summary>Sets a value kept across restarts.</summary>
    public void SetCursor(string name, string value)
    {
        lock (_gate)
            Execute("INSERT INTO cursors (name, value) VALUES ($n, $v) ON CONFLICT (name) DO UPDATE SET value = excluded.value", null, ("$n", name), ("$v", value));
    }

    /// <summary>The instance count a QIDO-RS poll last saw for a series; null when it never saw it.</summary>
    public int? PolledInstances(string seriesInstanceUid)
    {
        lock (_gate)
        {
            using var cmd = Command("SELECT instances FROM polled_series WHERE series_uid = $s", null, ("$s", seriesInstanceUid));
            return cmd.ExecuteScalar() is long n ? (int)n : null;
        }
    }

    /// <summary>Records the instance count a QIDO-RS poll saw for a series.</summary>
    public void SetPolledInstances(string seriesInstanceUid, int instances)
    {
        lock (_gate)
            Execute("INSERT INTO polled_series (series_uid, instances) VALUES ($s, $n) ON CONFLICT (series_uid) DO UPDATE SET instances = excluded.instances",
                null, ("$s", seriesInstanceUid), ("$n", instances));
    }

    /// <summary>One row by id; null when there is none.</summary>
    public SeriesRecord? Find(long id)
    {
        lock (_gate) return Query($"SELECT {Columns} FROM series WHERE id = $id", null, ("$id", id)).SingleOrDefault();
    }

    /// <summary>
    /// After a restart: series left segmenting by a process that died are routed again (their attempt stays counted,
    /// so a series that kills the gateway every time ends in the dead letters). Returns how many.
    /// </summary>
    public int RecoverInterrupted()
    {
        lock (_gate)
            return Execute("UPDATE series SET state = $routed, last_error = 'interrupted (the gateway stopped while segmenting)', updated = $now WHERE state = $segmenting",
                null, ("$routed", (int)SeriesState.Routed), ("$now", _now()), ("$segmenting", (int)SeriesState.Segmenting));
    }

    /// <summary>Dead-lettered or failed rows of a series back to routed, attempts reset (<c>edu gateway retry</c>). Returns how many.</summary>
    public int Retry(string seriesInstanceUid)
    {
        lock (_gate)
            return Execute("UPDATE series SET state = $routed, attempts = 0, next_attempt = 0, updated = $now WHERE series_uid = $s AND state IN ($dead, $failed)",
                null, ("$routed", (int)SeriesState.Routed), ("$now", _now()), ("$s", seriesInstanceUid),
                ("$dead", (int)SeriesState.DeadLetter), ("$failed", (int)SeriesState.Failed));
    }

    /// <summary>Rows, newest first, optionally in one state.</summary>
    public IReadOnlyList<SeriesRecord> List(SeriesState? state = null, int limit = 100)
    {
        lock (_gate)
            return state is { } s
                ? Query($"SELECT {Columns} FROM series WHERE state = $state ORDER BY updated DESC LIMIT $limit", null, ("$state", (int)s), ("$limit", limit))
                : Query($"SELECT {Columns} FROM series ORDER BY updated DESC LIMIT $limit", null, ("$limit", limit));
    }

    /// <summary>How many rows are in each state (for metrics and <c>edu gateway status</c>).</summary>
    public IReadOnlyDictionary<SeriesState, int> Counts()
    {
        var counts = Enum.GetValues<SeriesState>().ToDictionary(s => s, _ => 0);
        lock (_gate)
        {
            using var cmd = Command("SELECT state, COUNT(*) FROM series GROUP BY state", null);
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) counts[(SeriesState)reader.GetInt32(0)] = reader.GetInt32(1);
        }
        return counts;
    }

    /// <inheritdoc />
    public void Dispose() => _connection.Dispose();

    private SeriesRecord Finish(long id, SeriesState state, string error, string segUid, long nextAttempt)
    {
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            var row = Get(id, tx);
            if (row.State != SeriesState.Segmenting)
                throw new InvalidOperationException($"series row {id} is {row.State}, not Segmenting: only a claimed series can finish");
            Execute("UPDATE series SET state = $state, last_error = $error, seg_uid = $seg, next_attempt = $next, updated = $now WHERE id = $id",
                tx, ("$state", (int)state), ("$error", error), ("$seg", segUid), ("$next", nextAttempt), ("$now", _now()), ("$id", id));
            var result = Get(id, tx);
            tx.Commit();
            return result;
        }
    }

    private SeriesRecord Get(long id, SqliteTransaction? tx) =>
        Query($"SELECT {Columns} FROM series WHERE id = $id", tx, ("$id", id)).SingleOrDefault()
        ?? throw new InvalidOperationException($"no series row {id}");

    private List<SeriesRecord> Query(string sql, SqliteTransaction? tx, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        using var reader = cmd.ExecuteReader();
        var rows = new List<SeriesRecord>();
        while (reader.Read())
            rows.Add(new SeriesRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), (SeriesState)reader.GetInt32(6), reader.GetInt32(7), reader.GetString(8), reader.GetInt64(9),
                reader.GetInt64(10), reader.GetInt64(11), reader.GetInt64(12), reader.GetString(13), reader.GetString(14), reader.GetString(15), reader.GetString(16), reader.GetString(17)));
        return rows;
    }

    private int Execute(string sql, SqliteTransaction? tx = null, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        return cmd.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, SqliteTransaction? tx, params (string Name, object Value)[] parameters)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        return cmd;
    }
}
