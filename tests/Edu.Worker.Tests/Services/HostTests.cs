using Edu.Abstractions.Imaging;
using Edu.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;

namespace Edu.Worker.Tests.Services;

public sealed class HostTests
{
    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Health_reports_serving_and_reflection_lists_every_service()
    {
        using var temp = new TempDir();
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));

        var health = await worker.Client<Health.HealthClient>().CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        using var call = worker.Client<ServerReflection.ServerReflectionClient>().ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(30));
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        foreach (var expected in new[] { "edu.v1.SegmentationService", "edu.v1.TrainingService", "edu.v1.ModelService", "edu.v1.PluginService", "grpc.health.v1.Health" })
            Assert.Contains(expected, names);
    }

    [Fact]
    public async Task Health_turns_not_serving_when_shutdown_begins_and_the_worker_keeps_answering_while_it_drains()
    {
        using var temp = new TempDir();
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"),
            new Dictionary<string, string?> { ["Worker:DrainSeconds"] = "5" });
        var health = worker.Client<Health.HealthClient>();
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30))).Status);

        worker.App.Lifetime.StopApplication(); // what SIGTERM does first
        var stopping = worker.StopAsync();
        var during = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, during.Status);
        var models = await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.NotNull(models);
        await stopping;
    }

    [Fact]
    public async Task Metrics_are_served_in_prometheus_text_format()
    {
        using var temp = new TempDir();
        int port = FreePort();
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"),
            new Dictionary<string, string?> { ["Worker:MetricsUrl"] = $"http://127.0.0.1:{port}/metrics" });
        await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest(), deadline: DateTime.UtcNow.AddSeconds(30));

        using var http = new HttpClient(); // HTTP/1.1, as Prometheus scrapes
        string text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        Assert.Contains("edu_grpc_requests_total{method=\"/edu.v1.ModelService/ListModels\",code=\"OK\"} 1", text);
        Assert.Contains("edu_segmentation_queue_depth", text);
        Assert.Contains("edu_jobs{state=\"queued\"}", text);
        Assert.Contains("edu_device_memory_bytes{device=\"cpu\"}", text);
        // the numeric self-check ran at start; its verdict is an info gauge (docs/cpu.md)
        Assert.Matches(@"edu_cpu_numerics_info\{configuration=""[^""]+"",cpu=""[^""]+"",onednn_isa=""[A-Z0-9_]+"",channels_first_right=""(true|false)"",channels_last_right=""true""\} 1", text);
    }

    [Fact]
    public async Task A_segmentation_shows_up_in_the_stage_timings_of_the_metrics()
    {
        using var temp = new TempDir();
        int port = FreePort();
        TestData.Package(temp.Sub("models"), "skin", "1", dims: 2, inChannels: 3);
        var (image, _) = TestData.Box(new VolumeSize(32, 32, 1), 3, seed: 2, spacing: [1, 1, 1]);
        string png = TestData.Write(image, temp.Sub("lesion.png"));
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"),
            new Dictionary<string, string?> { ["Worker:MetricsUrl"] = $"http://127.0.0.1:{port}/metrics" });
        var header = new SegmentHeader { Model = "skin", Outputs = { OutputKind.Nifti } };
        var outcome = await Segment.RunAsync(worker.Client<SegmentationService.SegmentationServiceClient>(), header, [png]);
        Assert.True(outcome.Status!.Ok);

        using var http = new HttpClient();
        string text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        foreach (string stage in new[] { "admission", "upload", "read", "inference", "write", "send" })
            Assert.Contains($"edu_segment_stage_seconds_count{{stage=\"{stage}\"}} 1", text);
    }

    [Fact]
    public async Task Plugin_service_lists_the_seven_modalities()
    {
        using var temp = new TempDir();
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));
        var response = await worker.Client<PluginService.PluginServiceClient>().ListPluginsAsync(new ListPluginsRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Equal(["ct", "dermoscopy", "endoscopy", "fundus", "microscopy", "mr", "xray"], response.Modalities.Select(m => m.Id).Order(StringComparer.Ordinal));
        Assert.All(response.Plugins, p => Assert.Equal("loaded", p.Status));
        Assert.Contains(response.Modalities, m => m.Id == "ct" && m.Dims == 3 && m.DefaultPipeline.Contains("clip", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_method_gets_unimplemented_and_the_worker_keeps_serving()
    {
        using var temp = new TempDir();
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));
        var method = new Method<ListModelsRequest, ListModelsResponse>(MethodType.Unary, "edu.v1.ModelService", "NoSuchMethod",
            Marshallers.Create(r => Google.Protobuf.MessageExtensions.ToByteArray(r), ListModelsRequest.Parser.ParseFrom),
            Marshallers.Create(r => Google.Protobuf.MessageExtensions.ToByteArray(r), ListModelsResponse.Parser.ParseFrom));
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await worker.Invoker.AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), new ListModelsRequest()));
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        var models = await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Empty(models.Models);
    }
}
