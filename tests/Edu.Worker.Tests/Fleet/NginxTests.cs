using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Edu.Abstractions.Imaging;
using Edu.Client;
using Edu.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Edu.Worker.Tests.Fleet;

/// <summary>
/// Two workers behind nginx (Debian's nginx 1.22, <c>grpc_pass</c>) with the configuration shipped in
/// <c>deploy/nginx/edu-workers.conf</c>, its ports replaced by free ones: one address for the clients, calls on both
/// workers, and a worker stopped gracefully while clients keep calling costs no call.
/// </summary>
public sealed class NginxTests
{
    private const string Nginx = "/usr/sbin/nginx";

    [Fact]
    public async Task Clients_on_one_nginx_address_reach_both_workers_and_a_worker_stopped_gracefully_costs_no_call()
    {
        if (!File.Exists(Nginx)) throw new InvalidOperationException("nginx is not installed: run build/system-deps.sh test (as root), or apt-get install nginx");
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1);
        var (image, _) = TestData.Box(new VolumeSize(64, 64, 1), 1, seed: 3, spacing: [1, 1, 1]);
        string png = TestData.Write(image, temp.Sub("chest.png"));
        int[] ports = [FreePort(), FreePort()];
        int front = FreePort();
        // a stream nginx lost while a worker stopped is answered after the upload idle limit, then tried again by the client
        var drain = new Dictionary<string, string?> { ["Worker:DrainSeconds"] = "2", ["Worker:UploadIdleSeconds"] = "5" };
        var first = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data1"), drain, urls: $"http://127.0.0.1:{ports[0]}");
        await using var second = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data2"), drain, urls: $"http://127.0.0.1:{ports[1]}");
        using var nginx = StartNginx(temp.Sub("nginx"), front, ports);
        try
        {
            var (channel, invoker) = EduChannel.Open($"http://127.0.0.1:{front}", null);
            using (channel)
            {
                var client = new SegmentClient(invoker);
                var header = new SegmentHeader { Model = "xr" };
                header.Outputs.Add(OutputKind.Nifti);
                int ok = 0;
                var failures = new List<string>();
                async Task<int> Client(TimeSpan length)
                {
                    int done = 0;
                    var until = DateTime.UtcNow + length;
                    while (DateTime.UtcNow < until)
                    {
                        try
                        {
                            var outcome = await client.SegmentAsync(header, [png], _ => new MemoryStream(), DateTime.UtcNow.AddMinutes(1));
                            Assert.True(outcome.Status.Ok);
                            Interlocked.Increment(ref ok);
                            done++;
                        }
                        catch (Grpc.Core.RpcException e)
                        {
                            lock (failures) failures.Add($"{e.StatusCode}: {e.Status.Detail}");
                        }
                    }
                    return done;
                }

                // 1. eight clients, both workers up: every call succeeds, and both workers serve
                await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Client(TimeSpan.FromSeconds(3))));
                Assert.Empty(failures);
                double Served(TestWorker w) => w.App.Services.GetRequiredService<Metrics.WorkerMetrics>().Registry is var r ? Requests(r) : 0;
                Assert.True(Served(first) > 0 && Served(second) > 0, $"served: {Served(first)} and {Served(second)}");

                // 2. the same load while the first worker is stopped gracefully (NOT_SERVING, a 2 s drain, then its port closes)
                var load = Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Client(TimeSpan.FromSeconds(8))));
                await Task.Delay(2000);
                await first.DisposeAsync();
                int before = Volatile.Read(ref ok);
                await load;
                Assert.True(failures.Count == 0, $"{failures.Count} failed calls: {string.Join(" | ", failures.Distinct().Take(5))}");
                Assert.True(ok > before, "calls went on after the first worker stopped");
            }
        }
        finally
        {
            try { nginx.Kill(entireProcessTree: true); nginx.WaitForExit(10_000); } catch (InvalidOperationException) { } // its worker processes too
        }
    }

    private static double Requests(Prometheus.CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n')
            .Where(l => l.StartsWith("edu_grpc_requests_total{", StringComparison.Ordinal) && l.Contains("Segment", StringComparison.Ordinal) && l.Contains("code=\"OK\"", StringComparison.Ordinal))
            .Sum(l => double.Parse(l.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture));
    }

    // nginx in the foreground with the shipped server and upstream blocks, in a temporary prefix
    private static Process StartNginx(string folder, int front, int[] workers)
    {
        Directory.CreateDirectory(folder);
        string shipped = File.ReadAllText(Path.Combine(RepositoryRoot(), "deploy", "nginx", "edu-workers.conf"))
            .Replace("127.0.0.1:50050", $"127.0.0.1:{front}", StringComparison.Ordinal)
            .Replace("127.0.0.1:50051", $"127.0.0.1:{workers[0]}", StringComparison.Ordinal)
            .Replace("127.0.0.1:50052", $"127.0.0.1:{workers[1]}", StringComparison.Ordinal);
        string config = Path.Combine(folder, "nginx.conf");
        File.WriteAllText(config, $$"""
            {{(Environment.UserName == "root" ? "user root;" : "")}}
            worker_processes 1;
            pid {{folder}}/nginx.pid;
            error_log {{folder}}/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path {{folder}}/body;
                proxy_temp_path {{folder}}/proxy;
                fastcgi_temp_path {{folder}}/fastcgi;
                uwsgi_temp_path {{folder}}/uwsgi;
                scgi_temp_path {{folder}}/scgi;
            {{shipped}}
            }
            """);
        var info = new ProcessStartInfo(Nginx) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-p", folder, "-c", config, "-e", Path.Combine(folder, "error.log"), "-g", "daemon off;" }) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        for (int i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, front);
                return process;
            }
            catch (SocketException) when (!process.HasExited)
            {
                Thread.Sleep(100);
            }
        }
        string log = File.Exists(Path.Combine(folder, "error.log")) ? File.ReadAllText(Path.Combine(folder, "error.log")) : process.StandardError.ReadToEnd();
        throw new InvalidOperationException($"nginx did not start on {front}:\n{log}");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EDU.Framework.sln"))) return dir.FullName;
        throw new InvalidOperationException("the repository root (EDU.Framework.sln) is not above the test folder");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
