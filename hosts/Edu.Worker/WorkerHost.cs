using System.Net;
using Edu.Abstractions.Errors;
using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using Edu.Plugins;
using Edu.Worker.Configuration;
using Edu.Worker.Datasets;
using Edu.Worker.Errors;
using Edu.Worker.Jobs;
using Edu.Worker.Metrics;
using Edu.Worker.Models;
using Edu.Worker.Security;
using Edu.Worker.Segmentation;
using Edu.Worker.Services;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Edu.Worker;

/// <summary>
/// Builds the worker's host: the one builder both <c>edu-worker</c> and <c>edu serve</c> use. Configuration:
/// appsettings.json beside the executable, then environment variables with the <c>EDU_</c> prefix
/// (<c>EDU_Worker__ApiKey</c>, <c>EDU_Kestrel__Certificates__Default__Path</c>, …), then the command line
/// (<c>--urls</c>, <c>--Worker:ModelsPath=…</c>). Without an explicit URL it listens on http://127.0.0.1:50051.
/// </summary>
public static class WorkerHost
{
    /// <summary>The address used when none is configured.</summary>
    public const string DefaultUrl = "http://127.0.0.1:50051";

    /// <summary>
    /// Creates the application. <paramref name="configure"/> may add configuration or replace services (tests set
    /// folders and keys). The security check runs at start (<see cref="StartAsync"/> / <c>RunAsync</c>).
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var tuning = ServingTuning.Apply(); // before anything loads LibTorch
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddEnvironmentVariables("EDU_");
        builder.Configuration.AddCommandLine(args);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
            builder.WebHost.UseUrls(DefaultUrl);
        // the slim builder leaves out reading HTTPS endpoints and certificates from configuration (Kestrel:Endpoints, Kestrel:Certificates)
        builder.WebHost.UseKestrelHttpsConfiguration();
        // gRPC needs HTTP/2; on cleartext Kestrel speaks it only on HTTP/2-only endpoints (Prometheus gets its own, see MetricsEndpoint)
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(e => e.Protocols = HttpProtocols.Http2));
        // gRPC's own call handler logs every failed call's detail (file names, UIDs) at Information: never below Warning
        builder.Logging.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", level => level >= LogLevel.Warning);
        // one line per event with a UTC timestamp; Logging:Console:FormatterName=json gives structured JSON lines instead
        if (string.Equals(builder.Configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase))
            builder.Logging.AddJsonConsole(o => { o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.UseUtcTimestamp = true; });
        else
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });

        var services = builder.Services;
        services.AddOptions<WorkerOptions>().Bind(builder.Configuration.GetSection(WorkerOptions.Section));
        // the drain comes first and must not eat the time running calls and a training's checkpoint get
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(
            builder.Configuration.GetValue("Worker:ShutdownTimeoutSeconds", 60) + builder.Configuration.GetValue("Worker:DrainSeconds", 0)));
        services.AddSingleton(_ => new WorkerMetrics(Prometheus.Metrics.NewCustomRegistry()));
        services.AddSingleton(sp => ModelCatalogue.CreateWith(
            sp.GetRequiredService<PluginCatalog>().ModelVariants.Select(v => (v.Name, v.Description, v.Factory))));
        services.AddSingleton(_ => PluginCatalog.LoadDefault());
        services.AddSingleton<ModelStore>();
        services.AddSingleton<SegmentationGate>();
        services.AddSingleton(sp => new InferenceThreads(sp.GetRequiredService<SegmentationGate>().Capacity.Concurrency));
        services.AddSingleton<SegmentationEngine>();
        services.AddSingleton<DatasetStore>();
        services.AddSingleton<IJobStore>(sp =>
        {
            var worker = sp.GetRequiredService<IOptions<WorkerOptions>>();
            return string.IsNullOrWhiteSpace(worker.Value.JobStore) ? new JobStore(worker) : new PostgresJobStore(worker.Value.JobStore);
        });
        services.AddSingleton<JobEventHub>();
        services.AddSingleton<ITrainingRunner, TrainerRunner>();
        services.AddSingleton<JobScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<JobScheduler>());
        services.AddHostedService<MetricsEndpoint>();
        services.AddSingleton<ApiKeyInterceptor>();
        services.AddSingleton<ErrorInterceptor>();
        services.AddGrpc(o =>
        {
            o.Interceptors.Add<ApiKeyInterceptor>();
            o.Interceptors.Add<ErrorInterceptor>();
            int max = builder.Configuration.GetValue("Worker:MaxMessageBytes", new WorkerOptions().MaxMessageBytes);
            o.MaxReceiveMessageSize = max;
            o.MaxSendMessageSize = max;
            o.EnableDetailedErrors = false;
        });
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks().AddCheck<WorkerHealthCheck>("worker");
        // Check runs the check on every call; Watch streams hear the publisher, every 5 s instead of the default 30
        services.Configure<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckPublisherOptions>(o =>
        {
            o.Delay = TimeSpan.FromSeconds(1);
            o.Period = TimeSpan.FromSeconds(5);
        });
        services.AddHostedService<ShutdownDrain>();

        configure?.Invoke(builder);

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(WorkerHost));
        foreach (string line in tuning) log.LogInformation("Serving tuning: {Setting}", line);
        CheckNumerics(log, app.Services.GetRequiredService<WorkerMetrics>());
        var options = app.Services.GetRequiredService<IOptions<WorkerOptions>>().Value;
        var problems = options.Validate();
        if (problems.Count > 0)
            throw new InvalidOperationException("worker configuration: " + string.Join("; ", problems));
        try
        {
            _ = app.Services.GetRequiredService<IJobStore>(); // a job store it cannot use stops the worker now, with its reason
        }
        catch (InvalidInputException e)
        {
            throw new InvalidOperationException($"worker configuration: Worker:JobStore: {e.Message}", e);
        }
        Directory.CreateDirectory(Path.GetFullPath(options.DataPath));
        CleanTemp(options);
        var capacity = app.Services.GetRequiredService<SegmentationGate>().Capacity;
        log.LogInformation("Segmentation: {Concurrency} at once, {Queue} more queued, at most {Wait} s waiting{Sized}", capacity.Concurrency, capacity.Queue,
            capacity.QueueWait.TotalSeconds, capacity.Sized.Length > 0 ? $" (sized from the device: {capacity.Sized})" : "");

        app.MapGrpcService<SegmentationService>();
        app.MapGrpcService<TrainingService>();
        app.MapGrpcService<ModelService>();
        app.MapGrpcService<PluginService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        if (options.Metrics)
        {
            var metrics = app.Services.GetRequiredService<WorkerMetrics>();
            metrics.Registry.AddBeforeCollectCallback(() => UpdateDeviceMemory(metrics, options.Device));
            app.MapMetrics("/metrics", metrics.Registry);
        }
        return app;
    }

    // The numeric self-check runs at start, not at the first request: a CPU on which no configuration computes right must stop
    // the worker before it accepts work. Its verdict goes to the log and to edu_cpu_numerics_info.
    private static void CheckNumerics(ILogger log, WorkerMetrics metrics)
    {
        if (!TorchRuntime.Describe().Loaded) return; // the requests that need LibTorch report why it does not load
        CpuNumerics.Notify = line => log.LogWarning("{Notice}", line);
        NumericsVerdict verdict;
        try
        {
            verdict = CpuNumerics.Ensure();
        }
        catch (NumericsException e)
        {
            throw new InvalidOperationException(e.Message, e);
        }
        log.LogInformation("CPU numerics: {Configuration} on {Cpu} (self-check {Source}; oneDNN channels-first {First}, channels-last {Last})",
            verdict.Configuration, verdict.Cpu, verdict.Cached ? "cached" : $"ran in {verdict.CheckMilliseconds} ms",
            verdict.ChannelsFirstRight ? "right" : "WRONG", verdict.ChannelsLastRight ? "right" : "WRONG");
        metrics.CpuNumerics.WithLabels(verdict.Configuration, CpuInfo.Current.Model, verdict.OneDnnIsa,
            verdict.ChannelsFirstRight ? "true" : "false", verdict.ChannelsLastRight ? "true" : "false").Set(1);
    }

    /// <summary>Runs the worker until Ctrl+C / SIGTERM (or <paramref name="cancellationToken"/>); returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        WebApplication app;
        try
        {
            app = Build(args);
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        await using (app.ConfigureAwait(false))
        {
            try
            {
                await StartAsync(app, cancellationToken).ConfigureAwait(false);
            }
            catch (InsecureBindingException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"error: cannot listen: {e.Message}");
                return 2;
            }
            foreach (var address in Addresses(app))
                Console.Error.WriteLine($"edu worker listening on {address}");
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        return 0;
    }

    /// <summary>The addresses Kestrel bound (the real port when 0 was asked for).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
    }

    /// <summary>
    /// Starts the application after the security check: without an API key (and without
    /// <c>Worker:AllowUnauthenticated</c>) only loopback addresses are allowed. The configured addresses are
    /// checked before listening, the bound ones again after; an insecure one is an <see cref="InsecureBindingException"/>
    /// and the host is stopped.
    /// </summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<WorkerOptions>>().Value;
        var configured = (app.Configuration[WebHostDefaults.ServerUrlsKey] ?? "")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(app.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(c => c["Url"]).OfType<string>());
        CheckSecurity(configured, options);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            CheckSecurity(Addresses(app), options);
        }
        catch (InsecureBindingException)
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private static void CheckSecurity(IEnumerable<string> addresses, WorkerOptions options)
    {
        if (!string.IsNullOrEmpty(options.ApiKey) || options.AllowUnauthenticated) return;
        foreach (var address in addresses)
        {
            if (!IsLoopback(address))
                throw new InsecureBindingException(
                    $"the worker would listen on {address} (not loopback) without an API key. Set Worker:ApiKey (environment EDU_Worker__ApiKey) " +
                    "or, behind an authenticating proxy, Worker:AllowUnauthenticated=true");
        }
    }

    private static bool IsLoopback(string address)
    {
        if (!Uri.TryCreate(address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
            return false;
        if (uri.Host == "localhost") return true;
        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }

    // Uploads a previous run left behind. With a shared job store the data folder is shared too (datasets, runs): another
    // live worker's uploads are there, so only those older than a day go.
    private static void CleanTemp(WorkerOptions options)
    {
        string temp = Path.Combine(Path.GetFullPath(options.DataPath), "tmp");
        if (!Directory.Exists(temp)) return;
        bool shared = !string.IsNullOrWhiteSpace(options.JobStore);
        foreach (var dir in Directory.EnumerateDirectories(temp))
        {
            if (shared && Directory.GetLastWriteTimeUtc(dir) > DateTime.UtcNow.AddDays(-1)) continue;
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { /* in use by another worker on the same folder: leave it */ }
        }
    }

    private static void UpdateDeviceMemory(WorkerMetrics metrics, string device) =>
        // TorchSharp 0.107 exposes no CUDA allocator statistics: the process's resident memory stands in on every device
        metrics.DeviceMemory.WithLabels(device).Set(Environment.WorkingSet);
}
