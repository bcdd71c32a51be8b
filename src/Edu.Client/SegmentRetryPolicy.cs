namespace Edu.Client;

/// <summary>
/// What <see cref="SegmentClient"/> does when the worker answers busy (RESOURCE_EXHAUSTED with a <c>retry-after-ms</c>
/// trailer): wait the hint, stretched by a random share of it so that clients turned away together do not come back
/// together, and try again, as long as the next try can start before the call's deadline.
/// </summary>
public sealed record SegmentRetryPolicy
{
    /// <summary>Retry busy answers until the deadline (the default).</summary>
    public static SegmentRetryPolicy Default { get; } = new();

    /// <summary>Never retry: a busy or unavailable answer is thrown at once.</summary>
    public static SegmentRetryPolicy None { get; } = new() { RetryBusy = false, UnavailableRetries = 0 };

    /// <summary>Whether busy answers are retried.</summary>
    public bool RetryBusy { get; init; } = true;

    /// <summary>The largest random share added to the hint: a wait is hint × (1 + U(0, <see cref="Jitter"/>)).</summary>
    public double Jitter { get; init; } = 0.5;

    /// <summary>The longest single wait, whatever the hint says.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How often a call answered UNAVAILABLE, or DEADLINE_EXCEEDED by the worker (its upload never arrived), before any
    /// result arrived is tried again, after 0.2 s, 0.4 s, 0.8 s, … (with jitter). A proxy in front of several workers
    /// answers UNAVAILABLE (HTTP 502) for a call that met a worker just as it closed, and can lose a stream's upload at
    /// that moment. The next try reaches another worker. Segmenting has no side effects, so a second try is safe. A worker
    /// that is really down still fails fast. 0 turns it off.
    /// </summary>
    public int UnavailableRetries { get; init; } = 3;

    /// <summary>The most tries of one request (the first included); the deadline usually ends them first.</summary>
    public int MaxAttempts { get; init; } = 1000;

    /// <summary>No try starts after this time (null: the call's deadline); a benchmark's window, for example, while a try in flight finishes.</summary>
    public DateTime? RetryUntil { get; init; }

    /// <summary>The wait before the next try after a hint of <paramref name="hint"/>.</summary>
    public TimeSpan Delay(TimeSpan hint, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        double ms = hint.TotalMilliseconds * (1 + Jitter * random.NextDouble());
        return TimeSpan.FromMilliseconds(Math.Clamp(ms, 0, MaxDelay.TotalMilliseconds));
    }
}
