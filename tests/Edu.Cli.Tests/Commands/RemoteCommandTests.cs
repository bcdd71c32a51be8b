using System.Text.Json;
using Edu.Abstractions.Imaging;
using Edu.Imaging;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using Edu.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Edu.Cli.Tests.Commands;

public sealed class RemoteCommandTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edu-remote-tests", Guid.NewGuid().ToString("N"));
    private WebApplication? _worker;
    private string _address = "";
    private const string Key = "remote-test-key";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var hp = new ModelHyperparameters(2, 1, 1, 4, 2, false);
        using (var model = ModelCatalogue.CreateBuiltIn().Create("unet", hp))
            ModelPackage.Save(Path.Combine(_root, "models", "xr", "1"), new ModelManifest
            {
                Name = "xr", Version = "1", Architecture = "unet", Hyperparameters = hp,
                Labels = new Dictionary<string, string> { ["0"] = "background", ["1"] = "lungs" },
            }, model);
        _worker = WorkerHost.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Worker:ModelsPath"] = Path.Combine(_root, "models"),
            ["Worker:DataPath"] = Path.Combine(_root, "data"),
            ["Worker:ApiKey"] = Key,
            ["Worker:MetricsUrl"] = "",
            ["Logging:LogLevel:Default"] = "Warning",
        }));
        await WorkerHost.StartAsync(_worker);
        _address = WorkerHost.Addresses(_worker)[0];
    }

    public async Task DisposeAsync()
    {
        if (_worker is not null)
        {
            await _worker.StopAsync();
            await _worker.DisposeAsync();
        }
        Directory.Delete(_root, recursive: true);
    }

    private string Image()
    {
        string path = Path.Combine(_root, "chest.png");
        if (File.Exists(path)) return path;
        var voxels = new float[40 * 32];
        for (int i = 0; i < voxels.Length; i++) voxels[i] = (i * 37) % 251;
        ImageWriterRegistry.CreateDefault().Write(new ImageVolume(ImageGeometry.Identity(new VolumeSize(40, 32, 1)), 1, voxels, PixelType.UInt8), path);
        return path;
    }

    [Fact]
    public void Segment_writes_the_result_files_and_never_overwrites_them()
    {
        string output = Path.Combine(_root, "out");
        var run = EduProcess.Run(["remote", "segment", "--server", _address, "--api-key", Key, "--model", "xr", "--outputs", "nifti,png", "--out", output, "--json", Image()]);

        Assert.True(run.ExitCode == 0, run.StdErr);
        using var json = JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]);
        Assert.Equal("xr", json.RootElement.GetProperty("model").GetString());
        Assert.Equal([40, 32, 1], json.RootElement.GetProperty("geometry").GetProperty("size").EnumerateArray().Select(e => e.GetInt32()));
        var labels = ImageReaderRegistry.CreateDefault().Read(Path.Combine(output, "labels.nii.gz"));
        Assert.Equal(new VolumeSize(40, 32, 1), labels.Size);
        Assert.True(File.Exists(Path.Combine(output, "mask.png")));

        var again = EduProcess.Run(["remote", "segment", "--server", _address, "--api-key", Key, "--model", "xr", "--out", output, Image()]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("refusing to overwrite", again.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Refusals_exit_2_with_the_workers_reason_and_failures_exit_1()
    {
        var unknown = EduProcess.Run(["remote", "segment", "--server", _address, "--api-key", Key, "--model", "nope", "--out", Path.Combine(_root, "o2"), Image()]);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("not found", unknown.StdErr, StringComparison.Ordinal);

        var noKey = EduProcess.Run(["remote", "jobs", "--server", _address], new Dictionary<string, string> { ["EDU_API_KEY"] = "" });
        Assert.Equal(2, noKey.ExitCode);
        Assert.Contains("unauthenticated", noKey.StdErr, StringComparison.Ordinal);

        var unknownJob = EduProcess.Run(["remote", "cancel", "job-none", "--server", _address], new Dictionary<string, string> { ["EDU_API_KEY"] = Key });
        Assert.Equal(2, unknownJob.ExitCode);

        var unreachable = EduProcess.Run(["remote", "jobs", "--server", "http://127.0.0.1:1", "--api-key", Key, "--timeout", "10"]);
        Assert.Equal(1, unreachable.ExitCode);
        Assert.StartsWith("error:", unreachable.StdErr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void Jobs_lists_as_json()
    {
        var run = EduProcess.Run(["remote", "jobs", "--server", _address, "--api-key", Key, "--json"]);
        Assert.True(run.ExitCode == 0, run.StdErr);
        using var json = JsonDocument.Parse(run.StdOut);
        Assert.Equal(0, json.RootElement.GetProperty("jobs").GetArrayLength());
    }
}
