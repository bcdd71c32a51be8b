using System.Diagnostics;
using System.Globalization;
using Edu.Worker.Configuration;
using Edu.Worker.Errors;
using Edu.Worker.Metrics;
using Microsoft.Extensions.Options;

namespace Edu.Worker.Segmentation;

/// <summary>
/// Admission to segmentation, as Triton and TorchServe do it: at most <see cref="SegmentationCapacity.Concurrency"/>
/// requests run, at most <see cref="SegmentationCapacity.Queue"/> more are admitted to upload and then wait for a slot in
/// first-come order. <see cref="Admit"/> never waits: past the bound, or when the expected wait (requests ahead × the
/// measured service time ÷ concurrency) is longer than <see cref="SegmentationCapacity.QueueWait"/>, it refuses with a
/// <see cref="WorkerBusyException"/> whose retry hint comes from the measured service time. A request that waited in the
/// queue longer than the wait limit is refused the same way. The running slots therefore stay busy under any offered load,
/// and the surplus is answered at once.
/// </summary>
public sealed class SegmentationGate
{
    private const double ServiceSmoothing = 0.3; // weight of the newest request in the service time's moving average
    private const int MinRetryAfterMs = 50, MaxRetryAfterMs = 600_000;

    private readonly Lock _lock = new();
    private readonly LinkedList<Admission> _waiting = new();
    private readonly WorkerMetrics _metrics;
    private readonly int _fallbackRetryAfterMs;
    private int _admitted;
    private int _running;
    private double _serviceSeconds = double.NaN;

    /// <summary>Creates the gate from the options (limits sized from the device where left out).</summary>
    public SegmentationGate(IOptions<WorkerOptions> options, WorkerMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        Capacity = SegmentationCapacity.From(options.Value);
        _fallbackRetryAfterMs = options.Value.RetryAfterMs;
        _metrics = metrics;
        _metrics.SegmentationQueueLimit.Set(Capacity.Queue);
        _metrics.SegmentationConcurrency.Set(Capacity.Concurrency);
    }

    /// <summary>The limits in force.</summary>
    public SegmentationCapacity Capacity { get; }

    /// <summary>Requests admitted and not finished: uploading, waiting or running.</summary>
    public int Admitted
    {
        get { lock (_lock) return _admitted; }
    }

    /// <summary>Requests running (holding a slot).</summary>
    public int Running
    {
        get { lock (_lock) return _running; }
    }

    /// <summary>The moving average of the time a request holds its slot (read, inference, write), or null before the first.</summary>
    public TimeSpan? ServiceTime
    {
        get
        {
            lock (_lock) return double.IsNaN(_serviceSeconds) ? null : TimeSpan.FromSeconds(_serviceSeconds);
        }
    }

    /// <summary>Admits a request to upload and queue, or throws <see cref="WorkerBusyException"/> at once (never waits).</summary>
    public Admission Admit()
    {
        string reason, message;
        int hint;
        lock (_lock)
        {
            double wait = ExpectedWaitSeconds(_admitted);
            if (_admitted >= Capacity.Concurrency + Capacity.Queue)
            {
                reason = WorkerBusyException.QueueFull;
                hint = HalfQueueMs();
                message = $"the worker is busy: {_running} segmentation(s) running and {_admitted - _running} queued, the most it takes " +
                    $"(Worker:SegmentationConcurrency {Capacity.Concurrency} + Worker:SegmentationQueue {Capacity.Queue}); retry in {hint} ms";
            }
            else if (wait > Capacity.QueueWait.TotalSeconds)
            {
                reason = WorkerBusyException.WaitLimit;
                hint = Clamp((wait - Capacity.QueueWait.TotalSeconds) * 1000 + NextPlaceMs());
                message = string.Create(CultureInfo.InvariantCulture,
                    $"the worker is busy: {_admitted} segmentation(s) ahead would take about {wait:0.#} s, longer than Worker:SegmentationQueueWaitSeconds " +
                    $"({Capacity.QueueWait.TotalSeconds:0.#} s); retry in {hint} ms");
            }
            else
            {
                _admitted++;
                UpdateGauges();
                return new Admission(this);
            }
        }
        throw new WorkerBusyException(message, hint, reason);
    }

    // Waits in first-come order for a slot, at most the wait limit; on return the admission holds a slot.
    internal async Task WaitForSlotAsync(Admission admission, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            if (admission.State != AdmissionState.Admitted) throw new InvalidOperationException($"the admission is {admission.State}, not waiting to run");
            if (_running < Capacity.Concurrency && _waiting.Count == 0)
            {
                Run(admission);
                _metrics.SegmentationQueueWait.Observe(0);
                return;
            }
            admission.State = AdmissionState.Waiting;
            admission.Granted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            admission.Node = _waiting.AddLast(admission);
            UpdateGauges();
        }
        try
        {
            await admission.Granted.Task.WaitAsync(Capacity.QueueWait, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            int hint;
            lock (_lock)
            {
                if (admission.State == AdmissionState.Running)
                {
                    // the slot came at the same moment: a timeout goes on running; a cancelled call gives the slot back on dispose
                    if (e is OperationCanceledException) throw;
                    _metrics.SegmentationQueueWait.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
                    return;
                }
                _waiting.Remove(admission.Node!);
                admission.Node = null;
                admission.State = AdmissionState.Admitted;
                UpdateGauges();
                hint = NextPlaceMs();
            }
            if (e is OperationCanceledException) throw;
            throw new WorkerBusyException(string.Create(CultureInfo.InvariantCulture,
                $"the worker is busy: the request waited {Capacity.QueueWait.TotalSeconds:0.#} s (Worker:SegmentationQueueWaitSeconds) without a free slot; retry in {hint} ms"),
                hint, WorkerBusyException.WaitLimit);
        }
        _metrics.SegmentationQueueWait.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    // Ends an admission wherever it is; a served one (completed) updates the service time.
    internal void Leave(Admission admission, bool served)
    {
        List<TaskCompletionSource>? granted = null;
        lock (_lock)
        {
            switch (admission.State)
            {
                case AdmissionState.Done:
                    return;
                case AdmissionState.Waiting:
                    _waiting.Remove(admission.Node!);
                    admission.Node = null;
                    break;
                case AdmissionState.Running:
                    _running--;
                    if (served)
                    {
                        double seconds = Stopwatch.GetElapsedTime(admission.RunningSince).TotalSeconds;
                        _serviceSeconds = double.IsNaN(_serviceSeconds) ? seconds : ServiceSmoothing * seconds + (1 - ServiceSmoothing) * _serviceSeconds;
                        _metrics.SegmentationServiceSeconds.Set(_serviceSeconds);
                    }
                    while (_running < Capacity.Concurrency && _waiting.First?.Value is { } next)
                    {
                        _waiting.RemoveFirst();
                        next.Node = null;
                        Run(next);
                        (granted ??= []).Add(next.Granted!);
                    }
                    break;
            }
            admission.State = AdmissionState.Done;
            _admitted--;
            UpdateGauges();
        }
        if (granted is not null)
            foreach (var tcs in granted) tcs.TrySetResult();
    }

    private void Run(Admission admission)
    {
        admission.State = AdmissionState.Running;
        admission.RunningSince = Stopwatch.GetTimestamp();
        _running++;
        UpdateGauges();
    }

    // Expected seconds before a request with `ahead` admitted requests in front of it gets a slot (0 before any measurement).
    private double ExpectedWaitSeconds(int ahead)
    {
        if (double.IsNaN(_serviceSeconds)) return 0;
        int turns = ahead - Capacity.Concurrency + 1;
        return turns <= 0 ? 0 : turns * _serviceSeconds / Capacity.Concurrency;
    }

    // Milliseconds until the next place frees on average: one service time shared by the running slots.
    private int NextPlaceMs() => double.IsNaN(_serviceSeconds) ? _fallbackRetryAfterMs : Clamp(1000 * _serviceSeconds / Capacity.Concurrency);

    // Milliseconds until half the queue is served: the hint for a full queue. Every client turned away while the queue is
    // full would otherwise come back when the first place frees, where only one of them fits, and the rejections would
    // take the CPU that inference needs; by half the queue, the place for many is free and the device still has work.
    private int HalfQueueMs() => double.IsNaN(_serviceSeconds)
        ? _fallbackRetryAfterMs
        : Clamp(1000 * ((_admitted - _running) / 2 + 1) * _serviceSeconds / Capacity.Concurrency);

    private static int Clamp(double ms) => (int)Math.Clamp(Math.Ceiling(ms), MinRetryAfterMs, MaxRetryAfterMs);

    private void UpdateGauges()
    {
        _metrics.SegmentationsActive.Set(_running);
        _metrics.SegmentationsWaiting.Set(_admitted - _running);
    }
}
