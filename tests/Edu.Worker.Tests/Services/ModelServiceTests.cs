using Edu.V1;
using Grpc.Core;

namespace Edu.Worker.Tests.Services;

public sealed class ModelServiceTests
{
    [Fact]
    public async Task Lists_loads_unloads_and_deletes_versions_side_by_side()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "lungs", "1", dims: 2, inChannels: 1, modality: "xray");
        string v2 = TestData.Package(temp.Sub("models"), "lungs", "2", dims: 2, inChannels: 1, modality: "xray");
        Directory.CreateDirectory(temp.Sub("models/broken/1"));
        await File.WriteAllTextAsync(temp.Sub("models/broken/1/model.json"), "{ not json");
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));
        var client = worker.Client<ModelService.ModelServiceClient>();
        var deadline = DateTime.UtcNow.AddMinutes(2);

        var list = await client.ListModelsAsync(new ListModelsRequest(), deadline: deadline);
        Assert.Equal(["2", "1"], list.Models.Select(m => m.Version));
        var info = list.Models[0];
        Assert.Equal(("lungs", "unet", "xray", false), (info.Name, info.Architecture, info.Modality, info.Loaded));
        Assert.Equal("lesion", info.Labels["1"]);
        Assert.True(info.Parameters > 0);
        Assert.Contains("\"hyperparameters\"", info.ManifestJson, StringComparison.Ordinal);

        var loaded = await client.LoadModelAsync(new ModelRef { Name = "lungs" }, deadline: deadline);
        Assert.True(loaded.Loaded);
        Assert.Equal("2", loaded.Version);
        Assert.True((await client.ListModelsAsync(new ListModelsRequest { Name = "lungs" }, deadline: deadline)).Models.Single(m => m.Version == "2").Loaded);

        var unloaded = await client.UnloadModelAsync(new ModelRef { Name = "lungs", Version = "2" }, deadline: deadline);
        Assert.False(unloaded.Loaded);

        await client.DeleteModelAsync(new ModelRef { Name = "lungs", Version = "2" }, deadline: deadline);
        Assert.False(Directory.Exists(v2));
        Assert.Equal(["1"], (await client.ListModelsAsync(new ListModelsRequest(), deadline: deadline)).Models.Select(m => m.Version));

        var gone = await Assert.ThrowsAsync<RpcException>(async () => await client.LoadModelAsync(new ModelRef { Name = "lungs", Version = "2" }, deadline: deadline));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        Assert.Contains("versions: 1", gone.Status.Detail, StringComparison.Ordinal);
        var noName = await Assert.ThrowsAsync<RpcException>(async () => await client.DeleteModelAsync(new ModelRef(), deadline: deadline));
        Assert.Equal(StatusCode.InvalidArgument, noName.StatusCode);
    }
}
