using Edu.Abstractions.Errors;

namespace Edu.Worker.Errors;

/// <summary>The worker cannot take more work now (queue full) or the request is over a size limit. gRPC ResourceExhausted.</summary>
public sealed class WorkerBusyException : EduException
{
    /// <summary>Creates the exception; <paramref name="retryAfterMs"/> is null when retrying will not help (a size limit).</summary>
    public WorkerBusyException(string message, int? retryAfterMs) : base(message) => RetryAfterMs = retryAfterMs;

    /// <summary>Milliseconds to wait before retrying, sent as trailer <c>retry-after-ms</c>; null when retrying the same request is pointless.</summary>
    public int? RetryAfterMs { get; }
}
