using Edu.Worker.Configuration;
using Edu.Worker.Errors;
using Edu.Worker.Metrics;
using Microsoft.Extensions.Options;

namespace Edu.Worker.Segmentation;

/// <summary>
/// Bounds segmentation: at most <see cref="WorkerOptions.SegmentationConcurrency"/> run, at most
/// <see cref="WorkerOptions.SegmentationQueue"/> wait; a request beyond that is refused at once with
/// RESOURCE_EXHAUSTED and a retry hint, so the worker never piles up unbounded work.
/// </summary>
public sealed class SegmentationGate : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly int _capacity;
    private readonly int _retryAfterMs;
    private readonly WorkerMetrics _metrics;
    private int _admitted;
    private int _waiting;

    /// <summary>Creates the gate from the options.</summary>
    public SegmentationGate(IOptions<WorkerOptions> options, WorkerMetrics metrics)
    {
        var o = options.Value;
        _slots = new SemaphoreSlim(o.SegmentationConcurrency, o.SegmentationConcurrency);
        _capacity = o.SegmentationConcurrency + o.SegmentationQueue;
        _retryAfterMs = o.RetryAfterMs;
        _metrics = metrics;
    }

    /// <summary>Admits the caller (waiting for a slot, cancellable) or throws <see cref="WorkerBusyException"/> when full.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _admitted) > _capacity)
        {
            Interlocked.Decrement(ref _admitted);
            _metrics.SegmentationsRejected.Inc();
            throw new WorkerBusyException($"the worker is busy ({_capacity} segmentations running or queued); retry later", _retryAfterMs);
        }
        _metrics.SegmentationsWaiting.Set(Interlocked.Increment(ref _waiting));
        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Decrement(ref _admitted);
            throw;
        }
        finally
        {
            _metrics.SegmentationsWaiting.Set(Interlocked.Decrement(ref _waiting));
        }
        _metrics.SegmentationsActive.Inc();
        return new Slot(this);
    }

    private void Leave()
    {
        _metrics.SegmentationsActive.Dec();
        _slots.Release();
        Interlocked.Decrement(ref _admitted);
    }

    /// <inheritdoc />
    public void Dispose() => _slots.Dispose();

    private sealed class Slot(SegmentationGate gate) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) gate.Leave();
        }
    }
}
