using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Edu.Dicom.Tests.Web;

/// <summary>
/// A real Orthanc (Debian's <c>orthanc</c> with <c>orthanc-dicomweb</c>, installed by <c>build/system-deps.sh test</c>)
/// in a temporary folder, with its own storage, free HTTP and DICOM ports, basic authentication, and remote access
/// refused: Orthanc 1.10 has no setting to bind to loopback only, so it refuses every HTTP client and every DICOM
/// peer that is not on this machine. Stopped and removed on dispose.
/// </summary>
public sealed class OrthancServer : IDisposable
{
    public const string User = "edu", Password = "orthanc-test-secret";
    private const string Executable = "/usr/sbin/Orthanc", DicomWebPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";
    private readonly Process _process;
    private readonly string _folder;

    /// <summary>Starts Orthanc; <paramref name="luaScript"/>, when given, is loaded as its Lua script (e.g. a ReceivedInstanceFilter).</summary>
    public OrthancServer(string? luaScript = null)
    {
        if (!File.Exists(Executable) || !File.Exists(DicomWebPlugin))
            throw new InvalidOperationException("Orthanc with its DICOMweb plugin is not installed: run build/system-deps.sh test (as root), or apt-get install orthanc orthanc-dicomweb");
        _folder = Directory.CreateTempSubdirectory("edu-orthanc-").FullName;
        HttpPort = FreePort();
        DicomPort = FreePort();
        var config = new Dictionary<string, object>
        {
            ["Name"] = "EDU-TEST",
            ["StorageDirectory"] = Path.Combine(_folder, "storage"),
            ["IndexDirectory"] = Path.Combine(_folder, "storage"),
            ["HttpPort"] = HttpPort,
            ["DicomPort"] = DicomPort,
            ["DicomAet"] = "ORTHANC",
            ["RemoteAccessAllowed"] = false,
            ["AuthenticationEnabled"] = true,
            ["RegisteredUsers"] = new Dictionary<string, string> { [User] = Password },
            ["DicomAlwaysAllowEcho"] = false,
            ["DicomAlwaysAllowStore"] = false,
            ["DicomCheckModalityHost"] = true,
            ["DicomModalities"] = new Dictionary<string, object> { ["edu"] = new object[] { "EDU", "127.0.0.1", 104 } },
            ["Plugins"] = new[] { DicomWebPlugin },
            ["DicomWeb"] = new Dictionary<string, object> { ["Enable"] = true, ["Root"] = "/dicom-web/" },
            ["StableAge"] = 2,
        };
        if (luaScript is not null)
        {
            string luaFile = Path.Combine(_folder, "script.lua");
            File.WriteAllText(luaFile, luaScript);
            config["LuaScripts"] = new[] { luaFile };
        }
        string configFile = Path.Combine(_folder, "orthanc.json");
        File.WriteAllText(configFile, JsonSerializer.Serialize(config));
        var info = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _folder };
        info.ArgumentList.Add(configFile);
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitUntilUp();
    }

    private readonly List<string> _log = [];

    public int HttpPort { get; }

    public int DicomPort { get; }

    public Uri DicomWebUrl => new($"http://127.0.0.1:{HttpPort}/dicom-web/");

    public Uri RestUrl => new($"http://127.0.0.1:{HttpPort}/");

    /// <summary>The temporary folder Orthanc runs in (its storage and configuration).</summary>
    public string Folder => _folder;

    public void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(entireProcessTree: true); _process.WaitForExit(10_000); } }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private void WaitUntilUp()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) break;
            try
            {
                // 401 without credentials: the server is up and its authentication on
                if (http.GetAsync(RestUrl + "system").Result.StatusCode == HttpStatusCode.Unauthorized) return;
            }
            catch (AggregateException) { }
            Thread.Sleep(100);
        }
        string log; lock (_log) log = string.Join('\n', _log.TakeLast(20));
        throw new InvalidOperationException($"Orthanc did not start on port {HttpPort}:\n{log}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
