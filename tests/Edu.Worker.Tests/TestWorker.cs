using Edu.Client;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Edu.Worker.Tests;

/// <summary>A real worker on a real Kestrel on 127.0.0.1 (a free port), and a real gRPC client channel to it.</summary>
internal sealed class TestWorker : IAsyncDisposable
{
    private TestWorker(WebApplication app, string address, string? apiKey)
    {
        App = app;
        Address = address;
        (Channel, Invoker) = EduChannel.Open(address, apiKey);
    }

    public WebApplication App { get; }
    public string Address { get; }
    public GrpcChannel Channel { get; }
    public CallInvoker Invoker { get; }

    /// <summary>Starts a worker with its models in <paramref name="models"/> and data in <paramref name="data"/>.</summary>
    public static async Task<TestWorker> StartAsync(string models, string data, IDictionary<string, string?>? settings = null,
        string? clientApiKey = null, string urls = "http://127.0.0.1:0", Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Worker:ModelsPath"] = models,
            ["Worker:DataPath"] = data,
            ["Worker:ShutdownTimeoutSeconds"] = "60",
            ["Worker:MetricsUrl"] = "",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Edu.Worker"] = "Information",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
        var app = WorkerHost.Build(["--urls", urls], b =>
        {
            b.Configuration.AddInMemoryCollection(all);
            services?.Invoke(b.Services);
        });
        try
        {
            await WorkerHost.StartAsync(app);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        string address = WorkerHost.Addresses(app).First(a => a.StartsWith("http://127.0.0.1", StringComparison.Ordinal));
        return new TestWorker(app, address, clientApiKey);
    }

    /// <summary>A client of <typeparamref name="T"/> over this worker's channel (with the client API key, if any).</summary>
    public T Client<T>() where T : ClientBase<T> => (T)Activator.CreateInstance(typeof(T), Invoker)!;

    /// <summary>Graceful stop, as SIGTERM does.</summary>
    public async Task StopAsync() => await App.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
