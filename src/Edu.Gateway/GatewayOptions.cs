using Edu.Gateway.Dimse;
using Edu.Gateway.Routing;

namespace Edu.Gateway;

/// <summary>
/// The gateway's configuration, section <c>Gateway</c> (appsettings.json beside <c>edu-gateway</c>, environment
/// variables <c>EDU_Gateway__…</c>, or the command line <c>--Gateway:…=…</c>). docs/pacs.md explains every setting.
/// </summary>
public sealed class GatewayOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Gateway";

    /// <summary>Folder of the state file (<c>gateway.db</c>) and the spool (received series, SEGs waiting to be stored).</summary>
    public string DataPath { get; set; } = "gateway-data";

    /// <summary>Seconds without a new instance after which a series received by C-STORE counts as complete.</summary>
    public double QuietSeconds { get; set; } = 10;

    /// <summary>Attempts at a series before it goes to the dead letters (a permanent error sends it there at once).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Wait before the second attempt; doubled for each further one, up to <see cref="MaxRetryDelaySeconds"/>.</summary>
    public double RetryDelaySeconds { get; set; } = 30;

    /// <summary>Longest wait between two attempts.</summary>
    public double MaxRetryDelaySeconds { get; set; } = 900;

    /// <summary>Series processed at once (each is one request to the worker).</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>How often the pipeline looks for work and Orthanc's change feed is read, in seconds.</summary>
    public double PollSeconds { get; set; } = 1;

    /// <summary>The address of the gateway's health and metrics endpoint (HTTP/1.1): <c>/healthz</c>, <c>/metrics</c>.</summary>
    public string HttpUrl { get; set; } = "http://127.0.0.1:8095";

    /// <summary>The worker that segments.</summary>
    public WorkerSettings Worker { get; set; } = new();

    /// <summary>The PACS: DICOMweb (QIDO, WADO, STOW) and, for Orthanc, its REST API's change feed.</summary>
    public PacsSettings Pacs { get; set; } = new();

    /// <summary>The gateway's own DICOM Storage SCP (modalities send to it by C-STORE); off unless enabled.</summary>
    public StoreScpSettings StoreScp { get; set; } = new();

    /// <summary>Where SEGs go.</summary>
    public ExportSettings Export { get; set; } = new();

    /// <summary>Routing rules, first match wins; a series no rule matches is recorded as skipped.</summary>
    public List<RouteRule> Routes { get; set; } = [];

    /// <summary>Every problem of the configuration, each naming its setting; empty when it can run.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(DataPath)) problems.Add("Gateway:DataPath is empty");
        if (QuietSeconds < 0) problems.Add($"Gateway:QuietSeconds is {QuietSeconds}; give 0 or more seconds");
        if (MaxAttempts < 1) problems.Add($"Gateway:MaxAttempts is {MaxAttempts}; give at least 1");
        if (RetryDelaySeconds < 0 || MaxRetryDelaySeconds < RetryDelaySeconds) problems.Add("Gateway:RetryDelaySeconds must be 0 or more and at most Gateway:MaxRetryDelaySeconds");
        if (Concurrency < 1) problems.Add($"Gateway:Concurrency is {Concurrency}; give at least 1");
        if (PollSeconds <= 0) problems.Add($"Gateway:PollSeconds is {PollSeconds}; give a positive number");
        if (!Uri.TryCreate(Worker.Url, UriKind.Absolute, out _)) problems.Add($"Gateway:Worker:Url '{Worker.Url}' is not an absolute URL");
        if (Worker.DeadlineSeconds <= 0) problems.Add("Gateway:Worker:DeadlineSeconds must be positive");
        if (!string.IsNullOrEmpty(Pacs.DicomWebUrl) && !Uri.TryCreate(Pacs.DicomWebUrl, UriKind.Absolute, out _))
            problems.Add($"Gateway:Pacs:DicomWebUrl '{Pacs.DicomWebUrl}' is not an absolute URL");
        if (!string.IsNullOrEmpty(Pacs.OrthancUrl) && !Uri.TryCreate(Pacs.OrthancUrl, UriKind.Absolute, out _))
            problems.Add($"Gateway:Pacs:OrthancUrl '{Pacs.OrthancUrl}' is not an absolute URL");
        if (!string.IsNullOrEmpty(Pacs.OrthancUrl) && string.IsNullOrEmpty(Pacs.DicomWebUrl))
            problems.Add("Gateway:Pacs:OrthancUrl is set but Gateway:Pacs:DicomWebUrl is not: series from Orthanc are fetched with WADO-RS");
        if (string.IsNullOrEmpty(Pacs.OrthancUrl) && !StoreScp.Enabled && Pacs.QidoPollSeconds <= 0)
            problems.Add("no ingest: set Gateway:Pacs:OrthancUrl (Orthanc's change feed), Gateway:Pacs:QidoPollSeconds (QIDO-RS polling) or Gateway:StoreScp:Enabled (C-STORE to the gateway)");
        if (Pacs.QidoPollSeconds > 0 && string.IsNullOrEmpty(Pacs.DicomWebUrl))
            problems.Add("Gateway:Pacs:QidoPollSeconds is set but Gateway:Pacs:DicomWebUrl is not");
        if (Pacs.QidoLimit < 1) problems.Add($"Gateway:Pacs:QidoLimit is {Pacs.QidoLimit}; give at least 1");
        switch (Export.Method.ToLowerInvariant())
        {
            case "stow":
                if (string.IsNullOrEmpty(Pacs.DicomWebUrl)) problems.Add("Gateway:Export:Method is stow but Gateway:Pacs:DicomWebUrl is empty");
                break;
            case "cstore":
                if (string.IsNullOrWhiteSpace(Export.Host) || Export.Port is < 1 or > 65535 || string.IsNullOrWhiteSpace(Export.CalledAeTitle))
                    problems.Add("Gateway:Export:Method is cstore: set Gateway:Export:Host, Port (1-65535) and CalledAeTitle");
                break;
            default:
                problems.Add($"Gateway:Export:Method '{Export.Method}' is neither stow nor cstore");
                break;
        }
        if (StoreScp.Enabled && !System.Net.IPAddress.TryParse(StoreScp.BindAddress, out _))
            problems.Add($"Gateway:StoreScp:BindAddress '{StoreScp.BindAddress}' is not an IP address (127.0.0.1, a LAN address, or 0.0.0.0)");
        if (StoreScp.Enabled && StoreScp.Port is < 0 or > 65535) problems.Add($"Gateway:StoreScp:Port {StoreScp.Port} is not a TCP port");
        if (StoreScp.Enabled && StoreScp.AeTitle.Trim().Length is 0 or > 16) problems.Add($"Gateway:StoreScp:AeTitle '{StoreScp.AeTitle}' must have 1 to 16 characters");
        if (Routes.Count == 0) problems.Add("Gateway:Routes is empty: no series would ever be segmented");
        return problems;
    }

    /// <summary>The state file.</summary>
    public string StateFile => Path.Combine(Path.GetFullPath(DataPath), "gateway.db");

    /// <summary>The delay before attempt <paramref name="attempts"/> + 1: doubling from <see cref="RetryDelaySeconds"/>, capped.</summary>
    public TimeSpan RetryDelay(int attempts) =>
        TimeSpan.FromSeconds(Math.Min(MaxRetryDelaySeconds, RetryDelaySeconds * Math.Pow(2, Math.Max(0, attempts - 1))));
}

/// <summary>The worker (configuration <c>Gateway:Worker</c>).</summary>
public sealed class WorkerSettings
{
    /// <summary>The worker's gRPC address.</summary>
    public string Url { get; set; } = "http://127.0.0.1:50051";

    /// <summary>The worker's API key (<c>x-api-key</c>); better given as the environment variable <c>EDU_Gateway__Worker__ApiKey</c>.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>Deadline of one segmentation call, busy retries included.</summary>
    public double DeadlineSeconds { get; set; } = 1800;
}

/// <summary>The PACS (configuration <c>Gateway:Pacs</c>).</summary>
public sealed class PacsSettings
{
    /// <summary>DICOMweb base URL (Orthanc: <c>http://host:8042/dicom-web/</c>): WADO-RS retrieval and STOW-RS export.</summary>
    public string DicomWebUrl { get; set; } = "";

    /// <summary>Orthanc's REST API (<c>http://host:8042/</c>): its change feed tells which series are stable. Empty: not read.</summary>
    public string OrthancUrl { get; set; } = "";

    /// <summary>HTTP basic user.</summary>
    public string Username { get; set; } = "";

    /// <summary>HTTP basic password (better as <c>EDU_Gateway__Pacs__Password</c>).</summary>
    public string Password { get; set; } = "";

    /// <summary>Bearer token instead of basic authentication.</summary>
    public string BearerToken { get; set; } = "";

    /// <summary>PEM file of a private CA that signed the PACS's TLS certificate.</summary>
    public string CaCertificateFile { get; set; } = "";

    /// <summary>Time limit of one HTTP request, transfer included.</summary>
    public double TimeoutSeconds { get; set; } = 300;

    /// <summary>At the first start (no position kept yet), begin at the feed's current end instead of its beginning.</summary>
    public bool SkipExistingChanges { get; set; } = true;

    /// <summary>
    /// Ingest from any DICOMweb PACS: a QIDO-RS series search every this many seconds (0: off). A series counts as
    /// complete once its instance count stays the same for <see cref="GatewayOptions.QuietSeconds"/>.
    /// </summary>
    public double QidoPollSeconds { get; set; }

    /// <summary>QIDO-RS filters of that search (attribute → value, e.g. <c>Modality</c> → <c>CT</c>, <c>StudyDate</c> → <c>20261201-</c>).</summary>
    public Dictionary<string, string> QidoFilters { get; set; } = [];

    /// <summary>The most series one search returns (QIDO-RS <c>limit</c>).</summary>
    public int QidoLimit { get; set; } = 1000;
}

/// <summary>The gateway's C-STORE receiver (configuration <c>Gateway:StoreScp</c>).</summary>
public sealed class StoreScpSettings
{
    /// <summary>Whether the gateway listens for C-STORE.</summary>
    public bool Enabled { get; set; }

    /// <summary>Its AE title.</summary>
    public string AeTitle { get; set; } = "EDUGATEWAY";

    /// <summary>Address to listen on (127.0.0.1: this machine only).</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>TCP port.</summary>
    public int Port { get; set; } = 11112;

    /// <summary>Calling AE titles allowed to send; empty: any.</summary>
    public List<string> AllowedCallingAeTitles { get; set; } = [];

    /// <summary>The SCP's settings.</summary>
    public StorageScpOptions ToOptions() => new()
    {
        AeTitle = AeTitle, BindAddress = BindAddress, Port = Port, AllowedCallingAeTitles = AllowedCallingAeTitles,
    };
}

/// <summary>Where SEGs go (configuration <c>Gateway:Export</c>).</summary>
public sealed class ExportSettings
{
    /// <summary><c>stow</c>: STOW-RS to <see cref="PacsSettings.DicomWebUrl"/>; <c>cstore</c>: dcmtk's storescu to an AE.</summary>
    public string Method { get; set; } = "stow";

    /// <summary>C-STORE: the PACS's AE title.</summary>
    public string CalledAeTitle { get; set; } = "";

    /// <summary>C-STORE: the gateway's AE title as the PACS knows it.</summary>
    public string CallingAeTitle { get; set; } = "EDUGATEWAY";

    /// <summary>C-STORE: host of the PACS.</summary>
    public string Host { get; set; } = "";

    /// <summary>C-STORE: port of the PACS.</summary>
    public int Port { get; set; } = 104;

    /// <summary>
    /// After each export, ask the PACS (QIDO-RS, when <see cref="PacsSettings.DicomWebUrl"/> is set) whether it holds
    /// the SEG, and count the export failed when it does not: Orthanc's DICOMweb plugin answers a STOW whose instance a
    /// filter dropped with success.
    /// </summary>
    public bool VerifyStored { get; set; } = true;

    /// <summary>C-STORE: the storescu executable (dcmtk).</summary>
    public string StoreScu { get; set; } = "storescu";
}
