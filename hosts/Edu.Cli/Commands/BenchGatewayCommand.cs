using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Dicom;
using Edu.Gateway.Host;
using Edu.Gateway.Processing;
using Edu.Gateway.State;
using Edu.Inference;
using Edu.Models.Checkpoints;
using Edu.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu bench gateway --model RUN --orthanc URL</c>: the time from the last slice of a CT series arriving to its SEG
/// stored in the PACS, split into the wait for the series to be complete, the transfer from the PACS, the segmentation
/// call (and the worker's own part of it) and the export, for both ways in: C-STORE to Orthanc (its change feed) and
/// C-STORE to the gateway's own SCP. A worker and the gateway run in this process; Orthanc is the caller's
/// (<c>bench/gateway.sh</c> starts one in a temporary folder).
/// </summary>
public static class BenchGatewayCommand
{
    private sealed record RouteResult(string Ingest, double TotalSeconds, double WaitSeconds, double FetchSeconds, double SegmentSeconds,
        double WorkerSeconds, double ExportSeconds, double SendSeconds);

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A run folder or model package of a CT model.", Required = true };
        var orthanc = new Option<string>("--orthanc") { Description = "Orthanc's REST URL (its DICOMweb plugin at dicom-web/).", DefaultValueFactory = _ => "http://127.0.0.1:8042/" };
        var dicomPort = new Option<int>("--orthanc-dicom-port") { Description = "Orthanc's DICOM port.", DefaultValueFactory = _ => 4242 };
        var aet = new Option<string>("--orthanc-aet") { Description = "Orthanc's AE title.", DefaultValueFactory = _ => "ORTHANC" };
        var callingAet = new Option<string>("--calling-aet") { Description = "The AE title Orthanc knows this machine by (its DicomModalities).", DefaultValueFactory = _ => "EDU" };
        var user = new Option<string?>("--user") { Description = "Orthanc user (basic authentication)." };
        var password = new Option<string?>("--password") { Description = "Orthanc password." };
        var slices = new Option<int>("--slices") { Description = "Slices of the synthetic CT series.", DefaultValueFactory = _ => 300 };
        var size = new Option<int>("--size") { Description = "Rows and columns of each slice.", DefaultValueFactory = _ => 512 };
        var stableAge = new Option<double>("--orthanc-stable-age") { Description = "Orthanc's StableAge (s), reported beside the wait.", DefaultValueFactory = _ => 60 };
        var quiet = new Option<double>("--quiet") { Description = "The gateway's quiet time (s) for series sent to its own SCP.", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "Also print one JSON object." };
        var command = new Command("gateway", "Last slice in to SEG stored: a CT series through Orthanc or the gateway's own SCP, a worker, and back by STOW-RS.")
        {
            model, orthanc, dicomPort, aet, callingAet, user, password, slices, size, stableAge, quiet, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            string package = ModelPackageLocator.Resolve(parse.GetValue(model)!);
            var manifest = ModelPackage.ReadManifest(package);
            if (parse.GetValue(slices) < 2 || parse.GetValue(size) < 16) throw new InvalidInputException("--slices/--size", "give at least 2 slices of 16×16");
            string dir = Directory.CreateTempSubdirectory("edu-bench-gateway-").FullName;
            try
            {
                var culture = CultureInfo.InvariantCulture;
                string series = Path.Combine(dir, "series");
                var files = DicomSeriesWriter.Write(BenchIoCommand.SyntheticCt(parse.GetValue(size), parse.GetValue(slices)), series, "CT", ct);
                long bytes = files.Sum(f => new FileInfo(f).Length);
                string models = Path.Combine(dir, "models");
                CopyFolder(package, Path.Combine(models, manifest.Name, manifest.Version));
                int workerPort = FreePort();
                var worker = WorkerHost.Build(["--urls", $"http://127.0.0.1:{workerPort}", $"--Worker:ModelsPath={models}", $"--Worker:DataPath={Path.Combine(dir, "worker")}",
                    "--Worker:MetricsUrl=", "--Logging:LogLevel:Default=Warning"]);
                await WorkerHost.StartAsync(worker, ct);
                var results = new List<RouteResult>();
                try
                {
                    var orthancUrl = new Uri(parse.GetValue(orthanc)!);
                    string[] common =
                    [
                        "--Gateway:PollSeconds=0.2", "--Gateway:HttpUrl=http://127.0.0.1:0", $"--Gateway:Worker:Url=http://127.0.0.1:{workerPort}",
                        $"--Gateway:Pacs:DicomWebUrl={new Uri(orthancUrl, "dicom-web/")}", $"--Gateway:Pacs:Username={parse.GetValue(user)}",
                        $"--Gateway:Pacs:Password={parse.GetValue(password)}", "--Gateway:Export:Method=stow", "--Gateway:Routes:0:Name=ct",
                        "--Gateway:Routes:0:Modality=CT", $"--Gateway:Routes:0:Model={manifest.Name}", $"--Gateway:Routes:0:Version={manifest.Version}",
                        "--Logging:LogLevel:Default=Warning",
                    ];
                    // 1. C-STORE to Orthanc; the gateway reads its change feed and fetches by WADO-RS
                    results.Add(await RouteAsync("orthanc", [.. common, $"--Gateway:DataPath={Path.Combine(dir, "gw-orthanc")}", $"--Gateway:Pacs:OrthancUrl={orthancUrl}"],
                        () => StoreScu(parse.GetValue(callingAet)!, parse.GetValue(aet)!, orthancUrl.Host, parse.GetValue(dicomPort), series), ct));
                    // 2. C-STORE to the gateway's own SCP
                    int scpPort = FreePort();
                    results.Add(await RouteAsync("gateway SCP", [.. common, $"--Gateway:DataPath={Path.Combine(dir, "gw-scp")}", "--Gateway:StoreScp:Enabled=true",
                        "--Gateway:StoreScp:AeTitle=EDUGW", "--Gateway:Pacs:OrthancUrl=", $"--Gateway:StoreScp:Port={scpPort}", $"--Gateway:QuietSeconds={parse.GetValue(quiet).ToString(culture)}"],
                        () => StoreScu("BENCH", "EDUGW", "127.0.0.1", scpPort, series), ct));
                }
                finally
                {
                    await worker.StopAsync(CancellationToken.None);
                    await worker.DisposeAsync();
                }

                Console.Out.WriteLine(string.Create(culture, $"CT series: {files.Count} slices of {parse.GetValue(size)}×{parse.GetValue(size)} int16 ({bytes / 1e6:0.0} MB); model {manifest.Name} ({manifest.Architecture}); export STOW-RS, verified by QIDO-RS"));
                Console.Out.WriteLine($"{"ingest",-12} {"send",7} {"total",7} {"wait",7} {"fetch",7} {"segment",8} {"(worker)",9} {"export",7}   seconds; total: last slice acknowledged → SEG stored");
                foreach (var r in results)
                    Console.Out.WriteLine(string.Create(culture,
                        $"{r.Ingest,-12} {r.SendSeconds,7:0.0} {r.TotalSeconds,7:0.0} {r.WaitSeconds,7:0.0} {r.FetchSeconds,7:0.0} {r.SegmentSeconds,8:0.0} {r.WorkerSeconds,9:0.0} {r.ExportSeconds,7:0.00}"));
                Console.Out.WriteLine(string.Create(culture, $"wait: until the series counts as complete (Orthanc's StableAge {parse.GetValue(stableAge)} s, or the gateway's quiet time {parse.GetValue(quiet)} s) plus polling"));
                if (parse.GetValue(json))
                    Console.Out.WriteLine(JsonSerializer.Serialize(new { slices = files.Count, size = parse.GetValue(size), bytes, model = manifest.Name, routes = results }, CliJson.Options));
                return CliApp.Ok;
            }
            finally
            {
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
            }
        });
        return command;
    }

    private static async Task<RouteResult> RouteAsync(string ingest, string[] settings, Func<double> send, CancellationToken ct)
    {
        var gateway = GatewayHost.Build(settings);
        await gateway.StartAsync(ct);
        try
        {
            var state = gateway.Services.GetRequiredService<GatewayStateStore>();
            await Task.Delay(1500, ct); // the change feed's position taken: the series is new to the gateway
            double sendSeconds = send();
            long sent = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            SeriesRecord? row = null;
            var deadline = DateTime.UtcNow.AddMinutes(60);
            while (DateTime.UtcNow < deadline && (row = state.List(SeriesState.Stored).FirstOrDefault()) is null)
            {
                if (state.List(SeriesState.DeadLetter).FirstOrDefault() is { } dead)
                    throw new InvalidOperationException($"the series was dead-lettered: {dead.LastError}");
                await Task.Delay(100, ct);
            }
            if (row is null) throw new TimeoutException($"{ingest}: no SEG stored within 60 minutes");
            var t = JsonSerializer.Deserialize<SeriesTimings>(row.TimingsJson)!;
            double total = (row.UpdatedUnixMs - sent) / 1000.0;
            return new RouteResult(ingest, total, total - t.FetchSeconds - t.SegmentSeconds - t.ExportSeconds, t.FetchSeconds, t.SegmentSeconds,
                t.WorkerSeconds, t.ExportSeconds, sendSeconds);
        }
        finally
        {
            await gateway.StopAsync(CancellationToken.None);
            await gateway.DisposeAsync();
        }
    }

    // dcmtk's storescu, the way a modality sends; returns its wall time in seconds
    private static double StoreScu(string callingAe, string calledAe, string host, int port, string folder)
    {
        var info = new ProcessStartInfo("storescu") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-v", "+sd", "-aet", callingAe, "-aec", calledAe, host, port.ToString(CultureInfo.InvariantCulture), folder }) info.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("storescu did not start (apt-get install dcmtk)");
        var errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string all = output + errors.Result;
        if (process.ExitCode != 0 || all.Contains("(Error", StringComparison.Ordinal))
            throw new InvalidOperationException($"storescu to {calledAe}@{host}:{port} failed:\n{string.Join('\n', all.Split('\n').TakeLast(5))}");
        return clock.Elapsed.TotalSeconds;
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
