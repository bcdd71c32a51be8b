using System.Collections.Concurrent;
using Edu.Abstractions.Errors;
using Edu.V1;
using Edu.Worker.Configuration;
using Edu.Worker.Errors;
using Edu.Worker.Metrics;
using Microsoft.Extensions.Options;

namespace Edu.Worker.Jobs;

/// <summary>
/// Runs queued training jobs, <see cref="WorkerOptions.TrainingConcurrency"/> at a time (one per device by default).
/// On start, jobs this worker left running when it was killed or stopped go back to the queue and resume from their
/// checkpoint. On shutdown, running jobs are cancelled (the trainer keeps its last checkpoint) and put back in the queue.
/// Each claimed job is held under a lease renewed every third of <see cref="WorkerOptions.JobLeaseSeconds"/>; on a
/// shared queue (PostgreSQL) a job whose lease another worker took over is stopped here without writing its end.
/// </summary>
public sealed class JobScheduler : BackgroundService
{
    private readonly IJobStore _store;
    private readonly ITrainingRunner _runner;
    private readonly JobEventHub _hub;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger<JobScheduler> _logger;
    private readonly WorkerOptions _options;
    private readonly ConcurrentDictionary<string, RunningJob> _running = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly WorkerCapabilities _capabilities;

    /// <summary>Creates the scheduler.</summary>
    public JobScheduler(IJobStore store, ITrainingRunner runner, JobEventHub hub, WorkerMetrics metrics,
        IOptions<WorkerOptions> options, ILogger<JobScheduler> logger, IHostApplicationLifetime lifetime)
    {
        // stop trainings as soon as shutdown begins, before the server waits for open calls
        lifetime.ApplicationStopping.Register(() => _stopping.Cancel());
        _store = store;
        _runner = runner;
        _hub = hub;
        _metrics = metrics;
        _logger = logger;
        _options = options.Value;
        _capabilities = WorkerCapabilities.For(_options.Device, _options.Capabilities.DeviceKind, _options.Capabilities.MemoryMb);
    }

    /// <summary>Cancelled when the worker begins to shut down.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>The folder of a job's run (checkpoints, logs, the package before it is published).</summary>
    public string RunDirectory(string jobId) => Path.Combine(Path.GetFullPath(_options.DataPath), "runs", jobId);

    /// <summary>Queues a job and wakes the scheduler.</summary>
    public Job Enqueue(StartTrainingRequest request)
    {
        // this worker's own queue: a job it cannot run would wait forever; a shared queue has other workers
        if (_store is JobStore && !_capabilities.Satisfies(request.Requirements))
            throw new ConflictException($"this worker ({_capabilities.DeviceKind}, {_capabilities.MemoryMb} MiB) cannot meet the job's requirements "
                + $"({request.Requirements.DeviceKind} {request.Requirements.MinMemoryMb} MiB), and it has no shared queue (Worker:JobStore)", alreadyExists: false);
        var job = _store.Create(request);
        _logger.LogInformation("Job {JobId} queued: {Architecture} on dataset {Dataset}", job.Id, request.Architecture, Redacted(request.Dataset));
        _hub.Publish();
        _wake.Release();
        return job;
    }

    /// <summary>Cancels a queued or running job; a job that already ended is a FailedPrecondition.</summary>
    public Job Cancel(string jobId, string reason)
    {
        var job = _store.Find(jobId) ?? throw new NotFoundException($"job '{jobId}'");
        if (job.State == JobState.Queued &&
            _store.Finish(jobId, JobState.Cancelled, reason, new JobEvent { Cancelled = new JobCancelled { Reason = reason } }, onlyIfQueued: true))
        {
            _hub.Publish();
            return _store.Find(jobId)!;
        }
        if (_running.TryGetValue(jobId, out var running))
        {
            running.CancelReason = reason;
            running.Cancellation.Cancel();
            return _store.Find(jobId)!;
        }
        job = _store.Find(jobId)!;
        throw new ConflictException($"job '{jobId}' has already ended ({job.State}); nothing to cancel", alreadyExists: false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken hostStopping)
    {
        await Task.Yield();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(hostStopping, _stopping.Token);
        var stoppingToken = linked.Token;
        foreach (var id in _store.RequeueInterrupted(_options.Id))
            _logger.LogWarning("Job {JobId} was running when the worker last stopped; queued again to resume from its last checkpoint", id);
        _logger.LogInformation("Jobs: {Store}, as worker {Worker} ({Kind}, {Memory} MiB), lease {Lease} s", _store.Describe, _options.Id,
            _capabilities.DeviceKind, _capabilities.MemoryMb, _options.JobLeaseSeconds);
        var lease = TimeSpan.FromSeconds(_options.JobLeaseSeconds);
        var renewEvery = lease / 3;
        var lastRenewal = DateTime.UtcNow;
        var tasks = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            if (DateTime.UtcNow - lastRenewal >= renewEvery)
            {
                RenewLeases(lease);
                lastRenewal = DateTime.UtcNow;
            }
            while (_running.Count < _options.TrainingConcurrency && _store.ClaimNext(_options.Id, lease, _capabilities) is { } job)
            {
                var running = new RunningJob(CancellationTokenSource.CreateLinkedTokenSource(stoppingToken));
                _running[job.Id] = running;
                tasks.Add(RunAsync(job, running, stoppingToken));
            }
            tasks.RemoveAll(t => t.IsCompleted);
            UpdateMetrics();
            try
            {
                await _wake.WaitAsync(renewEvery < TimeSpan.FromSeconds(2) ? renewEvery : TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        // Shutdown: running jobs see the cancellation, checkpoint and are requeued by RunAsync.
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private async Task RunAsync(Job job, RunningJob running, CancellationToken stoppingToken)
    {
        await Task.Yield();
        string runDirectory = RunDirectory(job.Id);
        try
        {
            Directory.CreateDirectory(runDirectory);
            _logger.LogInformation("Job {JobId} started (resume {Resumes})", job.Id, job.Resumes);
            var finished = await _runner.RunAsync(job, runDirectory, e => Report(job.Id, e), running.Cancellation.Token).ConfigureAwait(false);
            if (_store.Finish(job.Id, JobState.Succeeded, "", new JobEvent { Finished = finished }, heldBy: _options.Id))
                _logger.LogInformation("Job {JobId} finished: model {Model} {Version}", job.Id, finished.ModelName, finished.ModelVersion);
            else
                _logger.LogWarning("Job {JobId} finished here after another worker took it over; its end is that worker's to write", job.Id);
        }
        catch (OperationCanceledException) when (running.LeaseLost)
        {
            _logger.LogWarning("Job {JobId} stopped: its lease ran out and another worker claimed it", job.Id);
        }
        catch (OperationCanceledException) when (running.CancelReason is not null)
        {
            _store.Finish(job.Id, JobState.Cancelled, running.CancelReason, new JobEvent { Cancelled = new JobCancelled { Reason = running.CancelReason } });
            _logger.LogInformation("Job {JobId} cancelled", job.Id);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _store.Requeue(job.Id);
            _logger.LogInformation("Job {JobId} interrupted by shutdown; queued to resume from its last checkpoint", job.Id);
        }
        catch (EduException e)
        {
            Fail(job.Id, e.Message);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Job {JobId} failed with an internal error", job.Id);
            Fail(job.Id, $"internal error ({e.GetType().Name}): {e.Message}");
        }
        finally
        {
            _running.TryRemove(job.Id, out _);
            running.Cancellation.Dispose();
            _hub.Publish();
            _wake.Release();
        }
    }

    // Renews the leases of the jobs running here; a job another worker took over (this one stalled past its lease) stops.
    private void RenewLeases(TimeSpan lease)
    {
        if (_running.IsEmpty) return;
        IReadOnlyList<string> lost;
        try
        {
            lost = _store.RenewLeases(_options.Id, [.. _running.Keys], lease);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning("Job leases not renewed ({Error}); trying again", e.Message);
            return;
        }
        foreach (string id in lost)
            if (_running.TryGetValue(id, out var running))
            {
                running.LeaseLost = true;
                running.Cancellation.Cancel();
            }
    }

    private void Fail(string jobId, string reason)
    {
        _store.Finish(jobId, JobState.Failed, reason, new JobEvent { Failed = new JobFailed { Reason = reason } }, heldBy: _options.Id);
        _logger.LogWarning("Job {JobId} failed: {Reason}", jobId, reason);
    }

    private void Report(string jobId, JobEvent jobEvent)
    {
        _store.AppendEvent(jobId, jobEvent);
        if (jobEvent.EventCase == JobEvent.EventOneofCase.Epoch)
            _store.SetProgress(jobId, jobEvent.Epoch.Epoch, jobEvent.Epoch.Epochs == 0 ? 0 : (double)jobEvent.Epoch.Epoch / jobEvent.Epoch.Epochs);
        _hub.Publish();
    }

    private void UpdateMetrics()
    {
        var counts = _store.CountByState();
        foreach (var state in Enum.GetValues<JobState>().Where(s => s != JobState.Unspecified))
            _metrics.Jobs.WithLabels(state.ToString().ToLowerInvariant()).Set(counts.GetValueOrDefault(state));
    }

    private static string Redacted(string dataset) => Path.IsPathRooted(dataset) ? Path.GetFileName(dataset) : dataset;

    /// <inheritdoc />
    public override void Dispose()
    {
        _wake.Dispose();
        _stopping.Dispose();
        base.Dispose();
    }

    private sealed class RunningJob(CancellationTokenSource cancellation)
    {
        public CancellationTokenSource Cancellation { get; } = cancellation;
        public volatile string? CancelReason;
        public volatile bool LeaseLost;
    }
}
