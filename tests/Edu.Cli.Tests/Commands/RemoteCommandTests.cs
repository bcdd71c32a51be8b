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
    public void Train_uploads_a_dataset_queues_the_job_and_watches_it_to_the_end()
    {
        string dataset = Path.Combine(_root, "boxes");
        foreach (var sub in new[] { "imagesTr", "labelsTr" }) Directory.CreateDirectory(Path.Combine(dataset, sub));
        var writers = ImageWriterRegistry.CreateDefault();
        for (int c = 0; c < 4; c++)
        {
            var image = new float[32 * 32];
            var mask = new float[32 * 32];
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                {
                    bool inside = x >= 8 + c && x < 20 + c && y >= 10 && y < 22;
                    image[y * 32 + x] = inside ? 200 : 30 + (x * 7 + y * 3) % 20;
                    mask[y * 32 + x] = inside ? 1 : 0;
                }
            var geometry = ImageGeometry.Identity(new VolumeSize(32, 32, 1));
            writers.Write(new ImageVolume(geometry, 1, image, PixelType.UInt8), Path.Combine(dataset, "imagesTr", $"box_{c:D3}_0000.png"));
            writers.Write(new ImageVolume(geometry, 1, mask, PixelType.UInt8), Path.Combine(dataset, "labelsTr", $"box_{c:D3}.png"));
        }
        File.WriteAllText(Path.Combine(dataset, "dataset.json"),
            """{"channel_names": {"0": "grey"}, "labels": {"background": 0, "box": 1}, "numTraining": 4, "file_ending": ".png"}""");

        var run = EduProcess.Run(["remote", "train", "--server", _address, "--api-key", Key, "--dataset", dataset, "--upload", "boxes",
            "--model-name", "boxnet", "--model-version", "1", "--model", "unet", "--epochs", "1", "--batch", "2", "--patch", "32", "--base", "4",
            "--set", "depth=2", "--watch"]);

        Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
        Assert.Contains("uploaded 9 files", run.StdErr, StringComparison.Ordinal);
        var lines = run.StdOut.Trim().Split('\n');
        Assert.EndsWith("queued", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("epoch 1/1", StringComparison.Ordinal));
        Assert.StartsWith("finished: model boxnet 1", lines[^1], StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_root, "models", "boxnet", "1", "model.json")));
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
