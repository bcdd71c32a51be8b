using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Edu.Dicom.Tests.Web;
using Edu.Dicom.Web;
using Edu.Gateway.Host;
using Edu.Gateway.State;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using Edu.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Edu.Gateway.Tests.EndToEnd;

/// <summary>
/// Everything a gateway meets in a hospital, on loopback in a temporary folder: a real Orthanc (DICOMweb plugin,
/// basic authentication), a real worker (Kestrel, gRPC) with a 3-D model package, and the gateway itself, in this
/// process or as the <c>edu-gateway</c> executable (so that it can be killed with SIGKILL).
/// </summary>
internal sealed class GatewayRig : IAsyncDisposable
{
    public const string Model = "ct";
    private WebApplication? _worker;
    private WebApplication? _gateway;
    private Process? _gatewayProcess;
    private readonly List<string> _processLog = [];

    private GatewayRig(OrthancServer orthanc, string folder)
    {
        Orthanc = orthanc;
        Folder = folder;
        WorkerPort = FreePort();
        ScpPort = FreePort();
        Pacs = new DicomWebClient(new DicomWebOptions { BaseUrl = orthanc.DicomWebUrl, Username = OrthancServer.User, Password = OrthancServer.Password });
        WriteModel(Path.Combine(folder, "models"), Edu.Dicom.Tests.TestFiles.Series("98892001", "CT5N"));
    }

    public OrthancServer Orthanc { get; }
    public string Folder { get; }
    public int WorkerPort { get; }
    public int ScpPort { get; }
    public DicomWebClient Pacs { get; }
    public string DataPath => Path.Combine(Folder, "gateway");
    public string NiftiFolder => Path.Combine(Folder, "nifti");
    public WebApplication Gateway => _gateway ?? throw new InvalidOperationException("no in-process gateway");

    public static GatewayRig Create(string? orthancLua = null)
    {
        string folder = Directory.CreateTempSubdirectory("edu-gateway-e2e-").FullName;
        return new GatewayRig(new OrthancServer(orthancLua), folder);
    }

    /// <summary>The gateway's settings: Orthanc's feed and/or its own SCP, export by <paramref name="export"/>, one rule CT → the model.</summary>
    public Dictionary<string, string?> Settings(string export, bool orthancFeed, bool storeScp) => new()
    {
        ["Gateway:DataPath"] = DataPath,
        ["Gateway:QuietSeconds"] = "1",
        ["Gateway:RetryDelaySeconds"] = "1",
        ["Gateway:MaxRetryDelaySeconds"] = "2",
        ["Gateway:MaxAttempts"] = "30",
        ["Gateway:PollSeconds"] = "0.2",
        ["Gateway:HttpUrl"] = "http://127.0.0.1:0",
        ["Gateway:Worker:Url"] = $"http://127.0.0.1:{WorkerPort}",
        ["Gateway:Worker:DeadlineSeconds"] = "120",
        ["Gateway:Pacs:DicomWebUrl"] = Orthanc.DicomWebUrl.ToString(),
        ["Gateway:Pacs:OrthancUrl"] = orthancFeed ? Orthanc.RestUrl.ToString() : "",
        ["Gateway:Pacs:Username"] = OrthancServer.User,
        ["Gateway:Pacs:Password"] = OrthancServer.Password,
        ["Gateway:StoreScp:Enabled"] = storeScp ? "true" : "false",
        ["Gateway:StoreScp:AeTitle"] = "EDUGW",
        ["Gateway:StoreScp:Port"] = ScpPort.ToString(),
        ["Gateway:Export:Method"] = export,
        ["Gateway:Export:CalledAeTitle"] = "ORTHANC",
        ["Gateway:Export:CallingAeTitle"] = "EDU", // the AE title Orthanc's configuration knows (OrthancServer)
        ["Gateway:Export:Host"] = "127.0.0.1",
        ["Gateway:Export:Port"] = Orthanc.DicomPort.ToString(),
        ["Gateway:Routes:0:Name"] = "ct-lesion",
        ["Gateway:Routes:0:Modality"] = "CT",
        ["Gateway:Routes:0:Model"] = Model,
        ["Gateway:Routes:0:NiftiFolder"] = NiftiFolder,
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Edu"] = "Information",
    };

    public async Task StartWorkerAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Worker:ModelsPath"] = Path.Combine(Folder, "models"),
            ["Worker:DataPath"] = Path.Combine(Folder, "worker"),
            ["Worker:MetricsUrl"] = "",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        _worker = WorkerHost.Build(["--urls", $"http://127.0.0.1:{WorkerPort}"], b => b.Configuration.AddInMemoryCollection(settings));
        await WorkerHost.StartAsync(_worker);
    }

    public async Task StopWorkerAsync()
    {
        if (_worker is null) return;
        await _worker.StopAsync();
        await _worker.DisposeAsync();
        _worker = null;
    }

    public async Task StartGatewayAsync(Dictionary<string, string?> settings, Action<IServiceCollection>? replace = null)
    {
        _gateway = GatewayHost.Build([], b => b.Configuration.AddInMemoryCollection(settings), replace);
        await _gateway.StartAsync();
    }

    public async Task StopGatewayAsync()
    {
        if (_gateway is null) return;
        await _gateway.StopAsync();
        await _gateway.DisposeAsync();
        _gateway = null;
    }

    /// <summary>Starts <c>edu-gateway</c> (the executable built beside the tests) as a child process.</summary>
    public void StartGatewayProcess(Dictionary<string, string?> settings)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Folder };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "edu-gateway.dll"));
        foreach (var (key, value) in settings) info.ArgumentList.Add($"--{key}={value}");
        _gatewayProcess = Process.Start(info)!;
        _gatewayProcess.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_processLog) _processLog.Add(e.Data); };
        _gatewayProcess.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_processLog) _processLog.Add(e.Data); };
        _gatewayProcess.BeginOutputReadLine();
        _gatewayProcess.BeginErrorReadLine();
    }

    public void KillGatewayProcess()
    {
        _gatewayProcess!.Kill(); // SIGKILL
        _gatewayProcess.WaitForExit(10_000);
        _gatewayProcess.Dispose();
        _gatewayProcess = null;
    }

    public string ProcessLog()
    {
        lock (_processLog) return string.Join('\n', _processLog.TakeLast(40));
    }

    /// <summary>The gateway's state file, read beside the running gateway (WAL).</summary>
    public GatewayStateStore OpenState() => new(Path.Combine(DataPath, "gateway.db"));

    /// <summary>Waits until <paramref name="condition"/> holds, or fails with <paramref name="what"/> and the state rows.</summary>
    public async Task WaitForAsync(Func<GatewayStateStore, bool> condition, string what, int seconds = 90, int pollMs = 100)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(Path.Combine(DataPath, "gateway.db")))
            {
                using var state = OpenState();
                if (condition(state)) return;
            }
            await Task.Delay(pollMs);
        }
        string rows = "";
        if (File.Exists(Path.Combine(DataPath, "gateway.db")))
        {
            using var state = OpenState();
            rows = string.Join('\n', state.List().Select(r => $"{r.State} {r.Model} attempts={r.Attempts} {r.LastError}"));
        }
        throw new TimeoutException($"waited {seconds} s for {what}; rows:\n{rows}\n{ProcessLog()}");
    }

    /// <summary>Sends files by C-STORE with dcmtk's storescu.</summary>
    public static async Task StoreScuAsync(string callingAe, string calledAe, int port, IEnumerable<string> files)
    {
        var (exit, output) = await StorageScpTests.RunAsync("storescu", ["-v", "-aet", callingAe, "-aec", calledAe, "127.0.0.1", port.ToString(), .. files]);
        Assert.True(exit == 0 && !output.Contains("(Error", StringComparison.Ordinal), "storescu:\n" + output);
    }

    /// <summary>The SEG series Orthanc holds in <paramref name="studyUid"/>: (SeriesInstanceUID, instance count).</summary>
    public async Task<List<(string Series, int Instances)>> SegSeriesAsync(string studyUid)
    {
        var found = await Pacs.SearchSeriesAsync([new("StudyInstanceUID", studyUid), new("Modality", "SEG"), new("includefield", "NumberOfSeriesRelatedInstances")]);
        return found.Select(s => (s.GetString(0x0020000E)!, s.GetInt(0x00201209) ?? 0)).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        if (_gatewayProcess is not null) { try { _gatewayProcess.Kill(); _gatewayProcess.WaitForExit(10_000); } catch (InvalidOperationException) { } _gatewayProcess.Dispose(); }
        await StopGatewayAsync();
        await StopWorkerAsync();
        Pacs.Dispose();
        Orthanc.Dispose();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    // An untrained 3-D U-Net package (base 4, depth 2), as the worker's own tests use: what it predicts is checked
    // against its own label volume, not against an anatomy. Its last bias is moved by the median logit on the test
    // series, so that it labels part of the series, not all or nothing.
    private static void WriteModel(string models, string series)
    {
        var hp = new ModelHyperparameters(3, 1, 1, 4, 2, false);
        using var model = ModelCatalogue.CreateBuiltIn().Create("unet", hp, seed: 7);
        var image = Edu.Dicom.DicomSeriesReader.Read(series);
        double mean = image.Voxels.Average(v => (double)v), std = Math.Sqrt(image.Voxels.Average(v => (v - mean) * (v - mean)));
        var size = image.Geometry.Size;
        var padded = new float[8 * size.Y * size.X]; // depth 2 halves twice: 5 slices padded to 8
        for (int i = 0; i < image.Voxels.Length; i++) padded[i] = (float)((image.Voxels[i] - mean) / std);
        model.eval();
        using (TorchSharp.torch.no_grad())
        using (var input = TorchSharp.torch.tensor(padded, [1, 1, 8, size.Y, size.X]))
        using (var logits = model.forward(input))
        {
            float median = logits[.., .., ..size.Z].flatten().data<float>().Order().ElementAt(size.Z * size.Y * size.X / 2);
            var bias = model.parameters().Last(p => p.shape.SequenceEqual([1L]));
            bias.sub_(median);
        }
        ModelPackage.Save(Path.Combine(models, Model, "1"), new ModelManifest
        {
            Name = Model,
            Version = "1",
            Architecture = "unet",
            Hyperparameters = hp,
            Labels = new Dictionary<string, string> { ["0"] = "background", ["1"] = "lesion" },
            Preprocessing = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["pipeline"] = "zscore" }),
        }, model);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
