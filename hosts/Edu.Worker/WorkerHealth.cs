using Edu.Worker.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Edu.Worker;

/// <summary>
/// The worker's health for <c>grpc.health.v1.Health</c>: SERVING while it runs, NOT_SERVING from the moment shutdown
/// begins, so that a load balancer stops sending new work while running calls finish and a training checkpoints.
/// </summary>
public sealed class WorkerHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("shutting down")
            : HealthCheckResult.Healthy());
}

/// <summary>
/// On shutdown, keeps the server accepting calls for <see cref="WorkerOptions.DrainSeconds"/> while health already
/// says NOT_SERVING: health checkers see the change before the port closes.
/// </summary>
public sealed class ShutdownDrain(IOptions<WorkerOptions> options, ILogger<ShutdownDrain> logger) : IHostedLifecycleService
{
    /// <inheritdoc />
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        int seconds = options.Value.DrainSeconds;
        if (seconds <= 0) return;
        logger.LogInformation("Shutting down: health is NOT_SERVING, draining for {Seconds} s before the port closes", seconds);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // the host's shutdown timeout ended the drain early
        }
    }

    /// <inheritdoc />
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
