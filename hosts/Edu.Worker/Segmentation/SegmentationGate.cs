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
/// first-come order. <see cref="Admit"/> never waits: past the bound, or when the expected wait is longer than
/// <see cref="SegmentationCapacity.QueueWait"/> (and the request would not be next in line), it refuses with a
/// <see cref="WorkerBusyException"/> whose retry hint comes from the measured service times. The expected wait adds up,
/// per request ahead, its model's measured service time (a moving average per model and version), less what a running
/// request has already spent, shared by the slots. A request that waited in the queue longer than the wait limit is
/// refused the same way. The running slots therefore stay busy under any offered load, and the surplus is answered at once.
/// </summary>
public sealed class SegmentationGate
{
    private const double ServiceSmoothing = 0.3; // weight of the newest request in the service time's moving average
    private const int MinRetryAfterMs = 50, MaxRetryAfterMs = 600_000;

    private readonly Lock _lock = new();
    private readonly LinkedList<Admission> _waiting = new();
    private readonly HashSet<Admission> _admittedSet = [];
    private readonly Dictionary<string, double> _serviceByModel = new(StringComparer.Ordinal);
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

    /// <summary>
    /// Admits a request for <paramref name="model"/> (name and version: its service time is measured apart) to upload and
    /// queue, or throws <see cref="WorkerBusyException"/> at once (never waits).
    /// </summary>
    public Admission Admit(string model = "")
    {
        string reason, message;
        int hint;
        lock (_lock)
        {
            double wait = ExpectedWaitSeconds();
            bool nextInLine = _admitted - _running == 0; // nobody uploading or waiting ahead: it gets the next free slot
            if (_admitted >= Capacity.Concurrency + Capacity.Queue)
            {
                reason = WorkerBusyException.QueueFull;
                hint = double.IsNaN(_serviceSeconds) ? Clamp(_fallbackRetryAfterMs) : Clamp(1000 * wait / 2);
                message = $"the worker is busy: {_running} segmentation(s) running and {_admitted - _running} queued, the most it takes " +
                    $"(Worker:SegmentationConcurrency {Capacity.Concurrency} + Worker:SegmentationQueue {Capacity.Queue}); retry in {hint} ms";
            }
            else if (wait > Capacity.QueueWait.TotalSeconds && !nextInLine)
            {
                reason = WorkerBusyException.WaitLimit;
                hint = Clamp((wait - Capacity.QueueWait.TotalSeconds) * 1000);
                message = string.Create(CultureInfo.InvariantCulture,
                    $"the worker is busy: {_admitted} segmentation(s) ahead would take about {wait:0.#} s, longer than Worker:SegmentationQueueWaitSeconds " +
                    $"({Capacity.QueueWait.TotalSeconds:0.#} s); retry in {hint} ms");
            }
            else
            {
                var admission = new Admission(this, model);
                _admitted++;
                _admittedSet.Add(admission);
                UpdateGauges();
                return admission;
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
            try
            {
                await admission.Granted.Task.WaitAsync(Capacity.QueueWait, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException) when (IsNextInLine(admission))
            {
                // first in the queue: the next free slot is its own, so it waits for it, up to the call's deadline
                await admission.Granted.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
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
            _metrics.SegmentationQueueWait.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds); // the long waits count too
            if (e is OperationCanceledException) throw;
            throw new WorkerBusyException(string.Create(CultureInfo.InvariantCulture,
                $"the worker is busy: the request waited {Capacity.QueueWait.TotalSeconds:0.#} s (Worker:SegmentationQueueWaitSeconds) without a free slot; retry in {hint} ms"),
                hint, WorkerBusyException.WaitLimit);
        }
        _metrics.SegmentationQueueWait.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    private bool IsNextInLine(Admission admission)
    {
        lock (_lock) return admission.State == AdmissionState.Running || (admission.Node is not null && _waiting.First == admission.Node);
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
                        _serviceSeconds = Smooth(_serviceSeconds, seconds);
                        _serviceByModel[admission.Model] = Smooth(_serviceByModel.GetValueOrDefault(admission.Model, double.NaN), seconds);
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
            _admittedSet.Remove(admission);
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

    // Expected seconds before a newcomer gets a slot: the remaining service of every admitted request (its model's measured
    // time, less what a running one has spent; a model not measured yet counts as the average of all), shared by the slots,
    // counted only beyond the slots free now. 0 before anything is measured.
    private double ExpectedWaitSeconds()
    {
        if (double.IsNaN(_serviceSeconds) || _admitted < Capacity.Concurrency) return 0;
        double work = 0;
        foreach (var a in _admittedSet)
        {
            double estimate = _serviceByModel.GetValueOrDefault(a.Model, _serviceSeconds);
            work += a.State == AdmissionState.Running ? Math.Max(0, estimate - Stopwatch.GetElapsedTime(a.RunningSince).TotalSeconds) : estimate;
        }
        return work / Capacity.Concurrency;
    }

    // Milliseconds until the next slot frees on average: one service time shared by the slots.
    private int NextPlaceMs() => double.IsNaN(_serviceSeconds) ? Clamp(_fallbackRetryAfterMs) : Clamp(1000 * _serviceSeconds / Capacity.Concurrency);

    private static double Smooth(double average, double newest) => double.IsNaN(average) ? newest : ServiceSmoothing * newest + (1 - ServiceSmoothing) * average;

    private static int Clamp(double ms) => (int)Math.Clamp(Math.Ceiling(ms), MinRetryAfterMs, MaxRetryAfterMs);

    private void UpdateGauges()
    {
        _metrics.SegmentationsActive.Set(_running);
        _metrics.SegmentationsWaiting.Set(_admitted - _running);
    }
}
