using Edu.Gateway.Processing;
using Edu.Gateway.State;
using Prometheus;

namespace Edu.Gateway.Host;

/// <summary>The gateway's Prometheus metrics (<c>/metrics</c>), on their own registry.</summary>
public sealed class GatewayMetrics : IPipelineObserver
{
    private readonly Gauge _series;
    private readonly Histogram _sinceLastInstance;
    private readonly Histogram _stage;
    private readonly Counter _failures;
    private readonly Counter _ingestErrors;

    /// <summary>Metrics on <paramref name="registry"/>, the series gauge read from <paramref name="state"/> at each scrape.</summary>
    public GatewayMetrics(CollectorRegistry registry, GatewayStateStore state)
    {
        Registry = registry;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _series = factory.CreateGauge("edu_gateway_series", "Series in the state file, by state.", "state");
        double[] buckets = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];
        _sinceLastInstance = factory.CreateHistogram("edu_gateway_stored_seconds",
            "From a series' last instance arriving to its SEG stored in the PACS (quiet time included).", new HistogramConfiguration { Buckets = buckets });
        _stage = factory.CreateHistogram("edu_gateway_stage_seconds", "Time of each stage of a stored series: fetch (WADO-RS), segment (the worker call), export.",
            new HistogramConfiguration { Buckets = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800], LabelNames = ["stage"] });
        _failures = factory.CreateCounter("edu_gateway_attempt_failures_total", "Failed attempts, by what followed (retry or dead letter).", "outcome");
        _ingestErrors = factory.CreateCounter("edu_gateway_ingest_errors_total", "Failed reads of a source (Orthanc's change feed).", "source");
        registry.AddBeforeCollectCallback(() =>
        {
            foreach (var (s, n) in state.Counts()) _series.WithLabels(s.Name()).Set(n);
        });
    }

    /// <summary>The registry <c>/metrics</c> serves.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>A source could not be read.</summary>
    public void IngestFailed(string source) => _ingestErrors.WithLabels(source).Inc();

    /// <inheritdoc />
    public void Routed(SeriesRecord row) { }

    /// <inheritdoc />
    public void Stored(SeriesRecord row, SeriesTimings timings)
    {
        _sinceLastInstance.Observe(timings.SinceLastInstanceSeconds);
        if (timings.SegmentSeconds > 0)
        {
            _stage.WithLabels("fetch").Observe(timings.FetchSeconds);
            _stage.WithLabels("segment").Observe(timings.SegmentSeconds);
        }
        _stage.WithLabels("export").Observe(timings.ExportSeconds);
    }

    /// <inheritdoc />
    public void Failed(SeriesRecord row) => _failures.WithLabels(row.State == SeriesState.DeadLetter ? "dead_letter" : "retry").Inc();
}
