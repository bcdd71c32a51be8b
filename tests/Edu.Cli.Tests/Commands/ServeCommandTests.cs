using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Edu.Client;
using Edu.V1;
using Grpc.Health.V1;

namespace Edu.Cli.Tests.Commands;

public sealed class ServeCommandTests
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Serves_health_and_the_api_until_sigterm_then_exits_zero()
    {
        string root = Path.Combine(Path.GetTempPath(), "edu-serve-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            int port = FreePort();
            string address = $"http://127.0.0.1:{port}";
            var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            info.Environment["EDU_Worker__MetricsUrl"] = ""; // no fixed metrics port in tests
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "edu.dll"), "serve", "--urls", address, "--models", Path.Combine(root, "models"), "--data", Path.Combine(root, "data") })
                info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            try
            {
                var (channel, invoker) = EduChannel.Open(address, null);
                using (channel)
                {
                    HealthCheckResponse? health = null;
                    for (int i = 0; i < 600 && health is null && !process.HasExited; i++)
                    {
                        try { health = await new Health.HealthClient(invoker).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(5)); }
                        catch (Grpc.Core.RpcException) { await Task.Delay(200); }
                    }
                    Assert.True(health is not null, "the worker did not answer: " + (process.HasExited ? await stderr : "still starting"));
                    Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health!.Status);
                    var plugins = await new PluginService.PluginServiceClient(invoker).ListPluginsAsync(new ListPluginsRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
                    Assert.Contains(plugins.Modalities, m => m.Id == "xray");
                }
                Assert.True(File.Exists(Path.Combine(root, "data", "jobs.db")));
                using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                    await kill.WaitForExitAsync();
                Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "edu serve did not stop on SIGTERM");
                Assert.Equal(0, process.ExitCode);
                Assert.Contains($"listening on {address}", await stderr, StringComparison.Ordinal);
                _ = await stdout;
            }
            finally
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Refuses_a_non_loopback_address_without_an_api_key()
    {
        string root = Path.Combine(Path.GetTempPath(), "edu-serve-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var run = EduProcess.Run(["serve", "--urls", $"http://0.0.0.0:{FreePort()}", "--data", Path.Combine(root, "data"), "--models", Path.Combine(root, "models")],
                new Dictionary<string, string> { ["EDU_Worker__MetricsUrl"] = "" }, timeoutSeconds: 120);
            Assert.Equal(2, run.ExitCode);
            Assert.StartsWith("error:", run.StdErr.Trim().Split('\n')[^1], StringComparison.Ordinal);
            Assert.Contains("API key", run.StdErr, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
    [Fact]
    public void A_metrics_port_in_use_stops_the_start_with_an_error_naming_the_setting()
    {
        // What a second worker on the same machine meets with the default metrics address.
        string root = Path.Combine(Path.GetTempPath(), "edu-serve-tests", Guid.NewGuid().ToString("N"));
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        try
        {
            var run = EduProcess.Run(["serve", "--urls", $"http://127.0.0.1:{FreePort()}", "--metrics-url", $"http://127.0.0.1:{port}/metrics",
                "--data", Path.Combine(root, "data"), "--models", Path.Combine(root, "models")], timeoutSeconds: 120);
            Assert.Equal(2, run.ExitCode);
            string last = run.StdErr.Trim().Split('\n')[^1];
            Assert.StartsWith("error:", last, StringComparison.Ordinal);
            Assert.Contains("Worker:MetricsUrl", last, StringComparison.Ordinal);
            Assert.Contains("--metrics-url", last, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
