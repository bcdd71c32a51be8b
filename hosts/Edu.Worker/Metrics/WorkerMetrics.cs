using System.Diagnostics;
using Grpc.Core;
using Prometheus;

namespace Edu.Worker.Metrics;

/// <summary>
/// The worker's Prometheus metrics (served at <c>/metrics</c>): gRPC requests by method and status, their
/// latency, the segmentation queue, jobs by state, loaded models, and device memory.
/// </summary>
public sealed class WorkerMetrics
{
    private readonly CollectorRegistry _registry;
    private readonly Counter _requests;
    private readonly Histogram _latency;
    private readonly Histogram _segmentStages;

    /// <summary>Creates the metrics in <paramref name="registry"/> (a fresh registry per host keeps tests apart).</summary>
    public WorkerMetrics(CollectorRegistry registry)
    {
        _registry = registry;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _requests = factory.CreateCounter("edu_grpc_requests_total", "gRPC calls handled, by method and status code.", "method", "code");
        _latency = factory.CreateHistogram("edu_grpc_request_duration_seconds", "gRPC call duration, by method.",
            new HistogramConfiguration { LabelNames = ["method"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 16) });
        _segmentStages = factory.CreateHistogram("edu_segment_stage_seconds",
            "Time spent in each stage of a Segment call: admission, upload, read, inference, write, send.",
            new HistogramConfiguration { LabelNames = ["stage"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 18) });
        SegmentationsActive = factory.CreateGauge("edu_segmentations_active", "Segmentations running now.");
        SegmentationsWaiting = factory.CreateGauge("edu_segmentation_queue_depth", "Segmentations waiting for a slot.");
        SegmentationsRejected = factory.CreateCounter("edu_segmentations_rejected_total", "Segmentations refused because the queue was full.");
        Jobs = factory.CreateGauge("edu_jobs", "Training jobs by state.", "state");
        ModelsLoaded = factory.CreateGauge("edu_models_loaded", "Model packages loaded in memory.");
        DeviceMemory = factory.CreateGauge("edu_device_memory_bytes", "Memory in use: process resident memory for cpu, allocated memory for cuda.", "device");
        UploadBytes = factory.CreateCounter("edu_upload_bytes_total", "Bytes received in segmentation and dataset uploads.");
        CpuNumerics = factory.CreateGauge("edu_cpu_numerics_info",
            "1 for the configuration the CPU numeric self-check chose (docs/cpu.md), with the CPU, oneDNN ISA and whether each oneDNN layout computes right.",
            "configuration", "cpu", "onednn_isa", "channels_first_right", "channels_last_right");
    }

    /// <summary>The numeric self-check's verdict, as an info-style gauge (value 1).</summary>
    public Gauge CpuNumerics { get; }

    /// <summary>The registry <c>/metrics</c> serves.</summary>
    public CollectorRegistry Registry => _registry;

    /// <summary>Segmentations running now.</summary>
    public Gauge SegmentationsActive { get; }

    /// <summary>Segmentations waiting for a slot.</summary>
    public Gauge SegmentationsWaiting { get; }

    /// <summary>Segmentations refused with RESOURCE_EXHAUSTED.</summary>
    public Counter SegmentationsRejected { get; }

    /// <summary>Jobs by state (set from the job store).</summary>
    public Gauge Jobs { get; }

    /// <summary>Loaded model packages.</summary>
    public Gauge ModelsLoaded { get; }

    /// <summary>Device memory in use.</summary>
    public Gauge DeviceMemory { get; }

    /// <summary>Uploaded bytes.</summary>
    public Counter UploadBytes { get; }

    /// <summary>Records a Segment stage that began at <paramref name="startTimestamp"/>; returns now, the next stage's start.</summary>
    public long SegmentStage(string stage, long startTimestamp)
    {
        long now = Stopwatch.GetTimestamp();
        _segmentStages.WithLabels(stage).Observe(Stopwatch.GetElapsedTime(startTimestamp, now).TotalSeconds);
        return now;
    }

    /// <summary>Total seconds and count recorded for each Segment stage so far.</summary>
    public IReadOnlyDictionary<string, (double Seconds, long Count)> SegmentStageTotals()
    {
        var totals = new Dictionary<string, (double, long)>(StringComparer.Ordinal);
        foreach (string[] labels in _segmentStages.GetAllLabelValues())
        {
            var child = _segmentStages.WithLabels(labels);
            totals[labels[0]] = (child.Sum, child.Count);
        }
        return totals;
    }

    /// <summary>Counts one finished call.</summary>
    public void Request(string method, StatusCode code, long startTimestamp)
    {
        _requests.WithLabels(method, code.ToString()).Inc();
        _latency.WithLabels(method).Observe(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
    }
}
