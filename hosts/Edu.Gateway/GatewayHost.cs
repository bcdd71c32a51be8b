using System.Text.Json;
using Edu.Dicom.Web;
using Edu.Gateway.Export;
using Edu.Gateway.Ingest;
using Edu.Gateway.Processing;
using Edu.Gateway.Routing;
using Edu.Gateway.State;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Prometheus;

namespace Edu.Gateway.Host;

/// <summary>
/// Builds the gateway's host, the one builder <c>edu-gateway</c> and <c>edu gateway run</c> use. Configuration:
/// <c>edu-gateway.json</c> beside the executable, a file given with <c>--config</c>, environment variables with the
/// <c>EDU_</c> prefix (<c>EDU_Gateway__Worker__ApiKey</c>), then the command line (<c>--Gateway:QuietSeconds=5</c>).
/// </summary>
public static class GatewayHost
{
    /// <summary>
    /// Creates the application; throws <see cref="InvalidOperationException"/> naming every configuration problem.
    /// <paramref name="configure"/> adds configuration (tests); <paramref name="replace"/> replaces services after the gateway's own.
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, Action<IServiceCollection>? replace = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "edu-gateway.json"), optional: true);
        string? configFile = ConfigFile(args);
        if (configFile is not null)
        {
            if (!File.Exists(configFile)) throw new InvalidOperationException($"--config {configFile}: no such file");
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        }
        builder.Configuration.AddEnvironmentVariables("EDU_");
        builder.Configuration.AddCommandLine(args.Where((a, i) => a != "--config" && (i == 0 || args[i - 1] != "--config")).ToArray());
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        if (string.Equals(builder.Configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase))
            builder.Logging.AddJsonConsole(o => { o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.UseUtcTimestamp = true; });
        else
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });
        configure?.Invoke(builder);

        var options = new GatewayOptions();
        builder.Configuration.GetSection(GatewayOptions.Section).Bind(options);
        var problems = options.Validate();
        if (problems.Count > 0) throw new InvalidOperationException("gateway configuration: " + string.Join("; ", problems));
        var router = new SeriesRouter(options.Routes); // checks every rule (a bad regular expression names its rule)
        builder.WebHost.UseUrls(options.HttpUrl);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(router);
        services.AddSingleton(_ => new GatewayStateStore(options.StateFile));
        services.AddSingleton(sp => new GatewayMetrics(Prometheus.Metrics.NewCustomRegistry(), sp.GetRequiredService<GatewayStateStore>()));
        services.AddSingleton<GatewayHealth>();
        DicomWebOptions? web = string.IsNullOrEmpty(options.Pacs.DicomWebUrl) ? null : new DicomWebOptions
        {
            BaseUrl = new Uri(options.Pacs.DicomWebUrl),
            Username = Empty(options.Pacs.Username), Password = Empty(options.Pacs.Password), BearerToken = Empty(options.Pacs.BearerToken),
            CaCertificateFile = Empty(options.Pacs.CaCertificateFile), Timeout = TimeSpan.FromSeconds(options.Pacs.TimeoutSeconds),
        };
        if (web is not null) services.AddSingleton(_ => new DicomWebClient(web));
        if (!string.IsNullOrEmpty(options.Pacs.OrthancUrl))
            services.AddSingleton(sp => new OrthancChangeFeed(new Uri(options.Pacs.OrthancUrl), web!, sp.GetRequiredService<DicomWebClient>(),
                sp.GetRequiredService<GatewayStateStore>(), options.Pacs.SkipExistingChanges));
        if (options.Pacs.QidoPollSeconds > 0)
            services.AddSingleton(sp => new QidoPoller(sp.GetRequiredService<DicomWebClient>(), sp.GetRequiredService<GatewayStateStore>(),
                options.Pacs.QidoFilters, options.Pacs.QidoLimit));
        if (options.StoreScp.Enabled)
            services.AddSingleton(sp => new LocalSeriesIngest(sp.GetRequiredService<GatewayStateStore>(), Path.Combine(Path.GetFullPath(options.DataPath), "series")));
        services.AddSingleton<ISeriesSegmenter>(_ => new WorkerSegmenter(options.Worker));
        services.AddSingleton<ISegExporter>(sp => options.Export.Method.Equals("cstore", StringComparison.OrdinalIgnoreCase)
            ? new CStoreExporter(options.Export)
            : new StowExporter(sp.GetRequiredService<DicomWebClient>(), web!.BaseUrl));
        services.AddSingleton(sp => new SeriesPipeline(options, sp.GetRequiredService<GatewayStateStore>(), router, sp.GetRequiredService<ISeriesSegmenter>(),
            sp.GetRequiredService<ISegExporter>(), sp.GetService<DicomWebClient>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("Edu.Gateway.Pipeline"),
            sp.GetRequiredService<GatewayMetrics>()));
        services.AddSingleton(sp => new GatewayService(options, sp.GetRequiredService<GatewayStateStore>(), sp.GetRequiredService<SeriesPipeline>(),
            sp.GetRequiredService<GatewayMetrics>(), sp.GetRequiredService<GatewayHealth>(), sp.GetRequiredService<ILogger<GatewayService>>(),
            sp.GetService<OrthancChangeFeed>(), sp.GetService<LocalSeriesIngest>(), sp.GetService<QidoPoller>()));
        services.AddHostedService(sp => sp.GetRequiredService<GatewayService>());
        replace?.Invoke(services);

        var app = builder.Build();
        app.MapGet("/healthz", (GatewayStateStore state, GatewayHealth health, GatewayService service) =>
        {
            var failing = health.Failing();
            var body = new
            {
                status = failing.Count == 0 ? "ok" : "degraded",
                series = state.Counts().ToDictionary(kv => kv.Key.Name(), kv => kv.Value),
                failing,
                storeScpPort = service.StoreScpPort,
            };
            return Results.Json(body, statusCode: failing.Count == 0 ? 200 : 503);
        });
        app.MapMetrics("/metrics", app.Services.GetRequiredService<GatewayMetrics>().Registry);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Edu.Gateway");
        log.LogInformation("Gateway: state {State}; {Rules} routing rules; worker {Worker}; export {Export}", options.StateFile, options.Routes.Count,
            options.Worker.Url, app.Services.GetRequiredService<ISegExporter>().Describe());
        return app;
    }

    /// <summary>Runs the gateway until Ctrl+C / SIGTERM (or <paramref name="cancellationToken"/>); returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        WebApplication app;
        try
        {
            app = Build(args);
        }
        catch (Exception e) when (e is InvalidOperationException or Abstractions.Errors.InvalidInputException or JsonException or InvalidDataException or FormatException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                Console.Error.WriteLine($"error: cannot listen: {e.Message}");
                return 2;
            }
            foreach (var address in Addresses(app)) Console.Error.WriteLine($"edu gateway: health and metrics on {address}");
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        return 0;
    }

    /// <summary>The addresses Kestrel bound (the real port when 0 was asked for).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    private static string? ConfigFile(string[] args)
    {
        int i = Array.IndexOf(args, "--config");
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string? Empty(string value) => string.IsNullOrEmpty(value) ? null : value;
}
