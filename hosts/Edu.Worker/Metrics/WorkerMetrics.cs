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
    private readonly Counter _rejected;

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
        SegmentationsActive = factory.CreateGauge("edu_segmentations_active", "Segmentations running now (holding a slot).");
        SegmentationsWaiting = factory.CreateGauge("edu_segmentation_queue_depth",
            "Segmentations admitted and not running: uploading, or waiting for a slot.");
        SegmentationQueueLimit = factory.CreateGauge("edu_segmentation_queue_limit", "Segmentations that may be admitted beyond the running ones (Worker:SegmentationQueue).");
        SegmentationConcurrency = factory.CreateGauge("edu_segmentation_concurrency", "Segmentations that may run at once (Worker:SegmentationConcurrency).");
        SegmentationQueueWait = factory.CreateHistogram("edu_segmentation_queue_wait_seconds", "Time an admitted segmentation waited for a slot after its upload.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 18) });
        SegmentationServiceSeconds = factory.CreateGauge("edu_segmentation_service_seconds",
            "Moving average of the time a segmentation holds its slot (read, inference, write); the retry hints derive from it.");
        _rejected = factory.CreateCounter("edu_segmentations_rejected_total",
            "Segmentations answered RESOURCE_EXHAUSTED, by reason: queue_full, wait_limit (expected or actual wait over the limit), upload_limit.", "reason");
        foreach (string reason in new[] { "queue_full", "wait_limit", "upload_limit" }) _rejected.WithLabels(reason);
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

    /// <summary>Segmentations admitted and not running (uploading or waiting for a slot).</summary>
    public Gauge SegmentationsWaiting { get; }

    /// <summary>The queue's bound.</summary>
    public Gauge SegmentationQueueLimit { get; }

    /// <summary>The running slots.</summary>
    public Gauge SegmentationConcurrency { get; }

    /// <summary>Seconds an admitted segmentation waited for a slot.</summary>
    public Histogram SegmentationQueueWait { get; }

    /// <summary>The measured service time (moving average), seconds.</summary>
    public Gauge SegmentationServiceSeconds { get; }

    /// <summary>Counts one segmentation refused with RESOURCE_EXHAUSTED for <paramref name="reason"/>.</summary>
    public void SegmentationRejected(string reason) => _rejected.WithLabels(reason).Inc();

    /// <summary>Segmentations refused so far for <paramref name="reason"/>.</summary>
    public double SegmentationsRejected(string reason) => _rejected.WithLabels(reason).Value;

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
