using System.Diagnostics;
using System.Globalization;
using Edu.Client;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Edu.Worker.Tests;

/// <summary>
/// <c>edu-worker</c> as a child process (built beside the tests), so that a test can kill it with SIGKILL as a crash or
/// the kernel would: started, waited for until its health answers, and a channel to it.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout, _stderr;

    private WorkerProcess(Process process, string address)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
        (Channel, Invoker) = EduChannel.Open(address, null);
    }

    public GrpcChannel Channel { get; }
    public CallInvoker Invoker { get; }

    /// <summary>Starts a worker on <paramref name="address"/> with <paramref name="settings"/> (<c>--Worker:…=…</c>) and waits until it serves.</summary>
    public static async Task<WorkerProcess> StartAsync(string address, params string[] settings)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "edu-worker.dll"), "--urls", address, "--Worker:MetricsUrl=" }.Concat(settings))
            info.ArgumentList.Add(a);
        var worker = new WorkerProcess(Process.Start(info)!, address);
        for (int i = 0; ; i++)
        {
            try
            {
                await new Health.HealthClient(worker.Invoker).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                return worker;
            }
            catch (RpcException) when (i < 300 && !worker._process.HasExited)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>SIGKILL, then waits for the process to be gone; returns its exit code (not 0: killed, not a clean stop).</summary>
    public async Task<int> KillAsync()
    {
        using (var kill = Process.Start("kill", ["-KILL", _process.Id.ToString(CultureInfo.InvariantCulture)])!)
            await kill.WaitForExitAsync();
        _process.WaitForExit(30_000);
        _ = await _stdout;
        _ = await _stderr;
        return _process.ExitCode;
    }

    public void Dispose()
    {
        Channel.Dispose();
        try { if (!_process.HasExited) { _process.Kill(entireProcessTree: true); _process.WaitForExit(10_000); } }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
