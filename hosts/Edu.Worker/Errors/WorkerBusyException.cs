using Edu.Abstractions.Errors;

namespace Edu.Worker.Errors;

/// <summary>The worker cannot take more work now (queue full, wait too long) or the request is over a size limit. gRPC ResourceExhausted.</summary>
public sealed class WorkerBusyException : EduException
{
    /// <summary>The queue (running + waiting) is full.</summary>
    public const string QueueFull = "queue_full";

    /// <summary>The request would wait, or did wait, longer than <c>Worker:SegmentationQueueWaitSeconds</c>.</summary>
    public const string WaitLimit = "wait_limit";

    /// <summary>The upload is over <c>Worker:MaxUploadBytes</c> / <c>MaxUploadFiles</c> (or a dataset over <c>MaxDatasetBytes</c>).</summary>
    public const string UploadLimit = "upload_limit";

    /// <summary>
    /// Creates the exception; <paramref name="retryAfterMs"/> is null when retrying will not help (a size limit);
    /// <paramref name="reason"/> is one of <see cref="QueueFull"/>, <see cref="WaitLimit"/>, <see cref="UploadLimit"/>.
    /// </summary>
    public WorkerBusyException(string message, int? retryAfterMs, string reason = UploadLimit) : base(message)
    {
        RetryAfterMs = retryAfterMs;
        Reason = reason;
    }

    /// <summary>Milliseconds to wait before retrying, sent as trailer <c>retry-after-ms</c>; null when retrying the same request is pointless.</summary>
    public int? RetryAfterMs { get; }

    /// <summary>Why: <see cref="QueueFull"/>, <see cref="WaitLimit"/> or <see cref="UploadLimit"/> (the <c>reason</c> label of <c>edu_segmentations_rejected_total</c>).</summary>
    public string Reason { get; }
}
