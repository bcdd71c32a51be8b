using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Edu.Worker.Tests.Jobs;

/// <summary>
/// A real PostgreSQL 15 (Debian's <c>postgresql</c>, installed by <c>build/system-deps.sh test</c>) in a temporary
/// folder: its own cluster (<c>initdb</c>), started with <c>pg_ctl</c> on a free loopback port, trust authentication
/// for loopback only, stopped and removed on dispose. PostgreSQL refuses to run as root, so as root the cluster belongs
/// to the <c>postgres</c> system user.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _folder;
    private readonly bool _asPostgres = Environment.UserName == "root";

    public PostgresServer()
    {
        if (!File.Exists(Path.Combine(Bin, "initdb")))
            throw new InvalidOperationException("PostgreSQL 15 is not installed: run build/system-deps.sh test (as root), or apt-get install postgresql");
        _folder = Directory.CreateTempSubdirectory("edu-postgres-").FullName;
        if (_asPostgres) Run("chown", "postgres:postgres", _folder);
        Port = FreePort();
        string data = Path.Combine(_folder, "data");
        Pg("initdb", "-D", data, "-U", "edu", "-A", "trust", "--no-sync", "-E", "UTF8");
        Pg("pg_ctl", "-D", data, "-l", Path.Combine(_folder, "log"), "-w", "-t", "60", "-o",
            $"-p {Port} -c listen_addresses=127.0.0.1 -k {_folder} -c fsync=off -c max_connections=200", "start");
    }

    public int Port { get; }

    /// <summary>A connection string for a new, empty database.</summary>
    public string NewDatabase()
    {
        string name = "edu_" + Guid.NewGuid().ToString("N")[..12];
        Pg("createdb", "-h", "127.0.0.1", "-p", Port.ToString(), "-U", "edu", name);
        return $"Host=127.0.0.1;Port={Port};Username=edu;Database={name};Pooling=true;Maximum Pool Size=20";
    }

    public void Dispose()
    {
        try { Pg("pg_ctl", "-D", Path.Combine(_folder, "data"), "-m", "immediate", "-w", "stop"); }
        catch (InvalidOperationException) { }
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private void Pg(string tool, params string[] args)
    {
        if (_asPostgres) Run("runuser", ["-u", "postgres", "--", Path.Combine(Bin, tool), .. args]);
        else Run(Path.Combine(Bin, tool), args);
    }

    private static void Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(120_000)) { process.Kill(); throw new InvalidOperationException($"{program} did not finish"); }
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}:\n{stdout}{stderr.Result}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
