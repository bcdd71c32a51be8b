using System.CommandLine;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.V1;
using Edu.Worker.Jobs;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu bench queue --store CONNECTION</c>: how many training jobs per second the shared PostgreSQL queue hands out
/// to several workers at once (trivial jobs: claimed and finished at once, nothing trained), and that each was handed
/// out exactly once. Each simulated worker has its own connection pool, as separate processes would.
/// </summary>
public static class BenchQueueCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var store = new Option<string>("--store") { Description = "PostgreSQL connection string (a database the benchmark may fill; its jobs table gets the trivial jobs).", Required = true };
        var workers = new Option<int>("--workers") { Description = "Workers claiming at once.", DefaultValueFactory = _ => 3 };
        var jobs = new Option<int>("--jobs") { Description = "Trivial jobs to hand out.", DefaultValueFactory = _ => 600 };
        var json = new Option<bool>("--json") { Description = "Also print one JSON object." };
        var command = new Command("queue", "Claims per second of the shared PostgreSQL job queue with several workers, each job exactly once.") { store, workers, jobs, json };
        command.SetAction(async (parse, ct) =>
        {
            int w = parse.GetValue(workers), n = parse.GetValue(jobs);
            if (w < 1 || n < 1) throw new InvalidInputException("--workers/--jobs", "give at least 1 of each");
            var stores = Enumerable.Range(0, w).Select(_ => new PostgresJobStore(parse.GetValue(store)!)).ToArray();
            try
            {
                var created = new HashSet<string>();
                for (int i = 0; i < n; i++) created.Add(stores[0].Create(new StartTrainingRequest { Dataset = "bench", ModelName = $"bench-{i}" }).Id);
                var claims = new ConcurrentBag<string>();
                using var start = new Barrier(w);
                var clock = new Stopwatch();
                var lease = TimeSpan.FromMinutes(5);
                await Task.WhenAll(stores.Select((s, i) => Task.Run(() =>
                {
                    if (start.SignalAndWait(TimeSpan.FromMinutes(1)) && i == 0) clock.Start();
                    string id = $"bench-worker-{i}";
                    while (!ct.IsCancellationRequested && s.ClaimNext(id, lease) is { } job)
                    {
                        if (!created.Contains(job.Id)) { s.Requeue(job.Id); continue; } // not ours: someone else's queue
                        claims.Add(job.Id);
                        s.Finish(job.Id, JobState.Succeeded, "", new JobEvent { Finished = new JobFinished() }, heldBy: id);
                    }
                }, ct)));
                clock.Stop();
                int distinct = claims.Distinct().Count();
                double perSecond = claims.Count / clock.Elapsed.TotalSeconds;
                var culture = CultureInfo.InvariantCulture;
                Console.Out.WriteLine(string.Create(culture, $"{stores[0].Describe}: {w} workers, {claims.Count} claims of {n} jobs ({distinct} distinct) in {clock.Elapsed.TotalSeconds:0.00} s: {perSecond:0} claims/s (claim + finish, each a transaction)"));
                if (parse.GetValue(json))
                    Console.Out.WriteLine(JsonSerializer.Serialize(new { workers = w, jobs = n, claims = claims.Count, distinct, seconds = clock.Elapsed.TotalSeconds, claims_per_second = perSecond }, CliJson.Options));
                return distinct == n && claims.Count == n ? CliApp.Ok : 1;
            }
            finally
            {
                foreach (var s in stores) s.Dispose();
            }
        });
        return command;
    }
}
