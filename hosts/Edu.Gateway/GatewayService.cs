using Edu.Abstractions.Logging;
using Edu.Dicom.Web;
using Edu.Gateway.Dimse;
using Edu.Gateway.Ingest;
using Edu.Gateway.Processing;
using Edu.Gateway.State;

namespace Edu.Gateway.Host;

/// <summary>
/// Runs the gateway's loops: at start, series a killed gateway left segmenting are routed again; then the C-STORE SCP
/// listens (when enabled), one loop reads Orthanc's change feed and routes quiet series, and
/// <see cref="GatewayOptions.Concurrency"/> loops claim and process routed series.
/// </summary>
public sealed class GatewayService(GatewayOptions options, GatewayStateStore state, SeriesPipeline pipeline, GatewayMetrics metrics,
    GatewayHealth health, ILogger<GatewayService> log, OrthancChangeFeed? feed = null, LocalSeriesIngest? localIngest = null,
    QidoPoller? qido = null) : BackgroundService
{
    private StorageScp? _scp;
    private DateTime _nextQido = DateTime.MinValue;

    /// <summary>The SCP's port once started (the real one when 0 was configured).</summary>
    public int StoreScpPort => _scp?.Port ?? 0;

    /// <inheritdoc />
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        int recovered = state.RecoverInterrupted();
        if (recovered > 0) log.LogWarning("{Count} series left segmenting by the last run are routed again", recovered);
        if (options.StoreScp.Enabled && localIngest is not null)
        {
            _scp = new StorageScp(options.StoreScp.ToOptions(), Path.Combine(Path.GetFullPath(options.DataPath), "partial"), localIngest.KeepAsync, log);
            _scp.Start();
        }
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_scp is not null) await _scp.DisposeAsync().ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = new List<Task> { IngestLoopAsync(stoppingToken) };
        for (int i = 0; i < options.Concurrency; i++) loops.Add(ProcessLoopAsync(stoppingToken));
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    private async Task IngestLoopAsync(CancellationToken stop)
    {
        var poll = TimeSpan.FromSeconds(options.PollSeconds);
        while (!stop.IsCancellationRequested)
        {
            if (feed is not null)
            {
                try
                {
                    int stable = await feed.PollAsync(stop).ConfigureAwait(false);
                    if (stable > 0) log.LogInformation("Orthanc: {Count} stable series", stable);
                    health.SourceOk("orthanc");
                }
                catch (Exception e) when (e is DicomWebException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    if (health.SourceFailed("orthanc", LogRedaction.Uids(e.Message)))
                        log.LogWarning("{Error} (tried again every {Seconds} s)", LogRedaction.Uids(e.Message), options.PollSeconds);
                    metrics.IngestFailed("orthanc");
                }
            }
            if (qido is not null && DateTime.UtcNow >= _nextQido)
            {
                _nextQido = DateTime.UtcNow.AddSeconds(options.Pacs.QidoPollSeconds);
                try
                {
                    int changed = await qido.PollAsync(stop).ConfigureAwait(false);
                    if (changed > 0) log.LogInformation("QIDO-RS: {Count} new or grown series", changed);
                    health.SourceOk("qido");
                }
                catch (DicomWebException e)
                {
                    if (health.SourceFailed("qido", LogRedaction.Uids(e.Message)))
                        log.LogWarning("{Error} (tried again every {Seconds} s)", LogRedaction.Uids(e.Message), options.Pacs.QidoPollSeconds);
                    metrics.IngestFailed("qido");
                }
            }
            pipeline.RouteQuietSeries();
            await Delay(poll, stop).ConfigureAwait(false);
        }
    }

    private async Task ProcessLoopAsync(CancellationToken stop)
    {
        var poll = TimeSpan.FromSeconds(options.PollSeconds);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (await pipeline.ProcessAvailableAsync(stop).ConfigureAwait(false) == 0) await Delay(poll, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken stop)
    {
        try { await Task.Delay(delay, stop).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }
}

/// <summary>What <c>/healthz</c> reports: the state counts, and each source's last failure while it is failing.</summary>
public sealed class GatewayHealth
{
    private readonly Dictionary<string, string> _failing = [];

    /// <summary>A source answered.</summary>
    public void SourceOk(string source)
    {
        lock (_failing) _failing.Remove(source);
    }

    /// <summary>A source failed; true when it was answering before (log once per outage).</summary>
    public bool SourceFailed(string source, string error)
    {
        lock (_failing)
        {
            bool first = !_failing.ContainsKey(source);
            _failing[source] = error;
            return first;
        }
    }

    /// <summary>The sources failing now, with their last error.</summary>
    public IReadOnlyDictionary<string, string> Failing()
    {
        lock (_failing) return new Dictionary<string, string>(_failing);
    }
}
