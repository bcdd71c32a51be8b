using Edu.Client;
using Edu.V1;
using Grpc.Core;
using Grpc.Health.V1;

namespace Edu.Worker.Tests.Security;

public sealed class ApiKeyTests
{
    private const string Key = "s3cret-key-for-tests";

    [Fact]
    public async Task With_a_key_configured_calls_need_it_and_health_does_not()
    {
        using var temp = new TempDir();
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"), new Dictionary<string, string?> { ["Worker:ApiKey"] = Key });
        var deadline = DateTime.UtcNow.AddSeconds(30);

        var none = await Assert.ThrowsAsync<RpcException>(async () =>
            await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest(), deadline: deadline));
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        Assert.Contains("x-api-key", none.Status.Detail, StringComparison.Ordinal);

        var wrong = await Assert.ThrowsAsync<RpcException>(async () =>
            await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest(), new Metadata { { "x-api-key", Key + "x" } }, deadline));
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);

        await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest(), new Metadata { { "x-api-key", Key } }, deadline);
        await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest(), new Metadata { { "authorization", "Bearer " + Key } }, deadline);

        var (channel, invoker) = EduChannel.Open(worker.Address, Key);
        using (channel)
            await new TrainingService.TrainingServiceClient(invoker).ListJobsAsync(new ListJobsRequest(), deadline: deadline);

        var health = await worker.Client<Health.HealthClient>().CheckAsync(new HealthCheckRequest(), deadline: deadline);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public async Task Without_a_key_configured_calls_pass_on_loopback()
    {
        using var temp = new TempDir();
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));
        var models = await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Empty(models.Models);
    }

    [Fact]
    public async Task Refuses_to_listen_beyond_loopback_without_a_key()
    {
        using var temp = new TempDir();
        var e = await Assert.ThrowsAsync<InsecureBindingException>(() =>
            TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"), urls: "http://0.0.0.0:0"));
        Assert.Contains("Worker:ApiKey", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listens_beyond_loopback_when_unauthenticated_access_is_explicitly_allowed()
    {
        using var temp = new TempDir();
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"),
            new Dictionary<string, string?> { ["Worker:AllowUnauthenticated"] = "true" }, urls: "http://0.0.0.0:0;http://127.0.0.1:0");
        var models = await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Empty(models.Models);
    }
}
