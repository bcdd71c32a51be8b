using Edu.Worker.Configuration;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Edu.Worker.Metrics;

/// <summary>
/// Serves <c>/metrics</c> over HTTP/1.1 on <see cref="WorkerOptions.MetricsUrl"/> (Prometheus scrapes HTTP/1.1;
/// the gRPC endpoints speak HTTP/2 only on cleartext). Off when the URL is empty.
/// </summary>
public sealed class MetricsEndpoint : IHostedService
{
    private readonly WorkerOptions _options;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger<MetricsEndpoint> _logger;
    private IMetricServer? _server;

    /// <summary>Creates the endpoint.</summary>
    public MetricsEndpoint(IOptions<WorkerOptions> options, WorkerMetrics metrics, ILogger<MetricsEndpoint> logger)
    {
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Metrics || string.IsNullOrWhiteSpace(_options.MetricsUrl)) return Task.CompletedTask;
        var uri = new Uri(_options.MetricsUrl);
        try
        {
            _server = new KestrelMetricServer(new KestrelMetricServerOptions
            {
                Hostname = uri.Host,
                Port = (ushort)uri.Port,
                Url = uri.AbsolutePath,
                Registry = _metrics.Registry,
            }).Start();
        }
        catch (IOException e)
        {
            // A second worker on the same machine meets the first one's metrics port here.
            throw new IOException($"the metrics listener Worker:MetricsUrl {_options.MetricsUrl} cannot bind ({e.Message}): give each worker its own "
                + "(Worker__MetricsUrl=http://127.0.0.1:PORT/metrics, or edu serve --metrics-url), or turn it off with an empty value", e);
        }
        _logger.LogInformation("Metrics at {Url}", _options.MetricsUrl);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) await _server.StopAsync().ConfigureAwait(false);
    }
}
