namespace Edu.Worker.Configuration;

/// <summary>
/// The worker's settings: section <c>Worker</c> of appsettings.json, overridden by environment variables
/// with the <c>EDU_</c> prefix (e.g. <c>EDU_Worker__ModelsPath</c>) and by the command line
/// (e.g. <c>--Worker:ApiKey=K</c>).
/// </summary>
public sealed class WorkerOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Worker";

    /// <summary>Folder of model packages: <c>{name}/{version}/model.json</c> (any folder up to two levels deep holding a model.json).</summary>
    public string ModelsPath { get; set; } = "models";

    /// <summary>Folder for the job database (<c>jobs.db</c>), uploaded datasets, training runs and temporary uploads.</summary>
    public string DataPath { get; set; } = "data";

    /// <summary>
    /// Where training jobs are kept: empty for <c>DATA/jobs.db</c> (SQLite, this worker alone), or a PostgreSQL
    /// connection string (<c>Host=db;Database=edu;Username=edu;Password=…</c>) for one queue shared by several workers.
    /// </summary>
    public string JobStore { get; set; } = "";

    /// <summary>
    /// This worker's name in the job queue (who runs which job). Default: host name and process id, unique but new at
    /// every start, so a restarted worker's jobs come back after their lease. A fixed name (unique per worker!) lets a
    /// restarted worker requeue its own jobs at once.
    /// </summary>
    public string Id { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>
    /// Seconds a claimed training job stays this worker's without a renewal (renewed every third of it while it runs);
    /// when a worker dies, another claims its jobs after this long.
    /// </summary>
    public double JobLeaseSeconds { get; set; } = 30;

    /// <summary>
    /// What this worker offers training jobs on a shared queue (<c>Worker:Capabilities:DeviceKind</c>, <c>:MemoryMb</c>);
    /// a job's requirements (device kind, memory) decide which workers may claim it. Defaults: the kind of
    /// <see cref="Device"/>, and the machine's memory on the CPU (a GPU's memory must be given).
    /// </summary>
    public CapabilitySettings Capabilities { get; set; } = new();

    /// <summary>Device for inference and training: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// What runs segmentation: <c>torch</c> (default; on <see cref="Device"/>) or <c>onnxruntime</c> (ONNX Runtime on the CPU,
    /// each package exported to ONNX when it is loaded). Training always runs on LibTorch.
    /// </summary>
    public string InferenceBackend { get; set; } = "torch";

    /// <summary>
    /// Seconds the worker keeps serving after shutdown begins while its health already says NOT_SERVING (0: none);
    /// give a load balancer's health-check interval here.
    /// </summary>
    public int DrainSeconds { get; set; }

    /// <summary>
    /// Decode uploaded DICOM in a child process, so that a file that crashes GDCM costs one request, not the worker
    /// (default true; the child adds about 0.12 s per request on this machine).
    /// </summary>
    public bool IsolateDicomDecoding { get; set; } = true;

    /// <summary>
    /// Segmentations that run at the same time (read, inference, write). Null: sized from the device
    /// (<see cref="SegmentationCapacity"/>: 1 on the CPU, whose cores one inference already uses; 2 on a GPU).
    /// </summary>
    public int? SegmentationConcurrency { get; set; }

    /// <summary>
    /// Segmentations admitted beyond the running ones: they upload and then wait in a FIFO queue for a slot. Past it a
    /// request gets RESOURCE_EXHAUSTED (with a retry hint) before its upload is read. Null: 32 per running slot.
    /// </summary>
    public int? SegmentationQueue { get; set; }

    /// <summary>
    /// Longest wait in the queue, in seconds (default 30). A request whose expected wait (requests ahead × the measured
    /// service time ÷ concurrency) is longer is refused at admission, and one that waited this long is answered
    /// RESOURCE_EXHAUSTED; both with a retry hint.
    /// </summary>
    public double SegmentationQueueWaitSeconds { get; set; } = 30;

    /// <summary>
    /// Seconds an upload may go without a message (a chunk or the end of the request stream) before the call ends with
    /// DEADLINE_EXCEEDED and frees its place (default 30): a client that never half-closes holds nothing for long.
    /// </summary>
    public double UploadIdleSeconds { get; set; } = 30;

    /// <summary>Trainings that run at the same time on the device (one by default).</summary>
    public int TrainingConcurrency { get; set; } = 1;

    /// <summary>Largest total upload of one segmentation request, in bytes (default 1 GiB).</summary>
    public long MaxUploadBytes { get; set; } = 1L << 30;

    /// <summary>Largest number of files in one segmentation request (a DICOM series).</summary>
    public int MaxUploadFiles { get; set; } = 5000;

    /// <summary>Largest total upload of one dataset, in bytes (default 20 GiB).</summary>
    public long MaxDatasetBytes { get; set; } = 20L << 30;

    /// <summary>Largest gRPC message, in bytes (clients send 1 MiB chunks).</summary>
    public int MaxMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Size of the result file chunks the worker sends.</summary>
    public int ChunkBytes { get; set; } = 1024 * 1024;

    /// <summary>The API key clients send as <c>x-api-key</c> or <c>authorization: Bearer</c>. Empty: no key.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Set to true to serve without an API key on a non-loopback address (behind an authenticating proxy).
    /// Without a key and without this the worker refuses to listen beyond loopback.
    /// </summary>
    public bool AllowUnauthenticated { get; set; }

    /// <summary>
    /// Milliseconds a busy worker tells clients to wait (trailer <c>retry-after-ms</c>) before it has measured a
    /// segmentation; afterwards the hint comes from the measured service time.
    /// </summary>
    public int RetryAfterMs { get; set; } = 1000;

    /// <summary>Whether <c>/metrics</c> is served (Prometheus text format).</summary>
    public bool Metrics { get; set; } = true;

    /// <summary>
    /// HTTP/1.1 address of the Prometheus endpoint (a scraper's protocol), e.g. <c>http://127.0.0.1:9464/metrics</c>;
    /// empty: none (<c>/metrics</c> is still served over HTTP/2 on the gRPC endpoints).
    /// </summary>
    public string? MetricsUrl { get; set; } = "http://127.0.0.1:9464/metrics";

    /// <summary>Checks values a typo could make absurd; returns the problems, empty when fine.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ModelsPath)) problems.Add("Worker:ModelsPath is empty");
        if (string.IsNullOrWhiteSpace(DataPath)) problems.Add("Worker:DataPath is empty");
        if (string.IsNullOrWhiteSpace(Id)) problems.Add("Worker:Id is empty");
        if (!(JobLeaseSeconds >= 3 && JobLeaseSeconds <= 3600)) problems.Add($"Worker:JobLeaseSeconds must be between 3 and 3600 (got {JobLeaseSeconds})");
        if (DrainSeconds is < 0 or > 600) problems.Add($"Worker:DrainSeconds must be between 0 and 600 (got {DrainSeconds})");
        if (SegmentationConcurrency is < 1 or > 256) problems.Add($"Worker:SegmentationConcurrency must be between 1 and 256 (got {SegmentationConcurrency})");
        if (SegmentationQueue is < 0 or > 100_000) problems.Add($"Worker:SegmentationQueue must be between 0 and 100000 (got {SegmentationQueue})");
        if (!(SegmentationQueueWaitSeconds > 0 && SegmentationQueueWaitSeconds <= 86_400))
            problems.Add($"Worker:SegmentationQueueWaitSeconds must be more than 0 and at most 86400 (got {SegmentationQueueWaitSeconds})");
        if (!(UploadIdleSeconds > 0 && UploadIdleSeconds <= 86_400)) problems.Add($"Worker:UploadIdleSeconds must be more than 0 and at most 86400 (got {UploadIdleSeconds})");
        if (TrainingConcurrency < 1) problems.Add($"Worker:TrainingConcurrency must be at least 1 (got {TrainingConcurrency})");
        if (MaxUploadBytes < 1) problems.Add($"Worker:MaxUploadBytes must be positive (got {MaxUploadBytes})");
        if (MaxUploadFiles < 1) problems.Add($"Worker:MaxUploadFiles must be positive (got {MaxUploadFiles})");
        if (MaxDatasetBytes < 1) problems.Add($"Worker:MaxDatasetBytes must be positive (got {MaxDatasetBytes})");
        if (MaxMessageBytes < 64 * 1024) problems.Add($"Worker:MaxMessageBytes must be at least 65536 (got {MaxMessageBytes})");
        if (ChunkBytes < 1024 || ChunkBytes > MaxMessageBytes / 2) problems.Add($"Worker:ChunkBytes must be between 1024 and MaxMessageBytes/2 (got {ChunkBytes})");
        if (!string.IsNullOrWhiteSpace(MetricsUrl) && (!Uri.TryCreate(MetricsUrl, UriKind.Absolute, out var m) || m.Scheme != Uri.UriSchemeHttp || m.Port is < 1 or > 65535))
            problems.Add($"Worker:MetricsUrl must be an http:// address with a port, e.g. http://127.0.0.1:9464/metrics (got '{MetricsUrl}')");
        if (Edu.Inference.InferenceBackends.TryParse(InferenceBackend) is not { } backend)
            problems.Add($"Worker:InferenceBackend must be {string.Join(" or ", Edu.Inference.InferenceBackends.Names)} (got '{InferenceBackend}')");
        else if (Edu.Inference.InferenceBackends.Unsupported(backend, Device, bfloat16: false) is { } reason)
            problems.Add($"Worker:InferenceBackend with Worker:Device '{Device}': {reason}");
        if (RetryAfterMs is < 0 or > 3_600_000) problems.Add($"Worker:RetryAfterMs must be between 0 and 3600000 (got {RetryAfterMs})");
        return problems;
    }
}

/// <summary>Configured capabilities (section <c>Worker:Capabilities</c>); empty or 0: detected.</summary>
public sealed class CapabilitySettings
{
    /// <summary><c>cpu</c> or <c>cuda</c>; empty: from <c>Worker:Device</c>.</summary>
    public string DeviceKind { get; set; } = "";

    /// <summary>The device's memory in MiB; 0: the machine's memory on the CPU, none known on a GPU.</summary>
    public long MemoryMb { get; set; }
}
