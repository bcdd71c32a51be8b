namespace Edu.Worker.Configuration;

/// <summary>
/// The segmentation limits in force: those configured in <see cref="WorkerOptions"/>, or sized from the device where
/// a value is left out. On the CPU one segmentation at a time: LibTorch already spreads one inference over every core,
/// and a second one only competes for them. On a GPU two, so that one request's reading, pre- and post-processing on
/// the CPU overlap the other's inference. The queue holds 32 requests per running slot; the wait limit
/// (<see cref="WorkerOptions.SegmentationQueueWaitSeconds"/>) shortens it where requests are slow.
/// </summary>
/// <param name="Concurrency">Segmentations running at once.</param>
/// <param name="Queue">Segmentations admitted beyond the running ones (uploading or waiting for a slot).</param>
/// <param name="QueueWait">The longest wait in the queue.</param>
/// <param name="Sized">Which values were sized from the device rather than configured, for the log; empty when none.</param>
public sealed record SegmentationCapacity(int Concurrency, int Queue, TimeSpan QueueWait, string Sized)
{
    /// <summary>Queue places per running slot when <see cref="WorkerOptions.SegmentationQueue"/> is left out.</summary>
    public const int QueuePerSlot = 32;

    /// <summary>The limits for <paramref name="options"/> on its <see cref="WorkerOptions.Device"/>.</summary>
    public static SegmentationCapacity From(WorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        bool gpu = options.Device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase);
        var sized = new List<string>();
        int concurrency = options.SegmentationConcurrency ?? (gpu ? 2 : 1);
        if (options.SegmentationConcurrency is null) sized.Add($"concurrency {concurrency} ({(gpu ? "GPU" : "CPU")})");
        int queue = options.SegmentationQueue ?? QueuePerSlot * concurrency;
        if (options.SegmentationQueue is null) sized.Add($"queue {queue} ({QueuePerSlot} per slot)");
        return new SegmentationCapacity(concurrency, queue, TimeSpan.FromSeconds(options.SegmentationQueueWaitSeconds), string.Join(", ", sized));
    }
}
