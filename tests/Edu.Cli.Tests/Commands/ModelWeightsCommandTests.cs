using System.Diagnostics;
using System.Text.Json;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using static TorchSharp.torch;

namespace Edu.Cli.Tests.Commands;

/// <summary>
/// Weights go to real PyTorch and back (Debian's python3-torch): PyTorch loads the exported state dict strictly into
/// the same net written in PyTorch (bench/pytorch_models.py) and gives the same output; weights PyTorch changed come
/// back through import and give PyTorch's output in TorchSharp.
/// </summary>
public sealed class ModelWeightsCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("edu-weights-").FullName;
    private static readonly ModelHyperparameters Small = new(2, 1, 2, 4, 2);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Dir(string name) => Path.Combine(_root, name);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EDU.Framework.sln"))) return dir.FullName;
        throw new InvalidOperationException("EDU.Framework.sln not found");
    }

    // The same input on both sides: 64 × 64 values from a closed formula.
    private static float[] Input() => [.. Enumerable.Range(0, 64 * 64).Select(i => MathF.Sin(i * 0.37f) + 0.01f * (i % 17))];

    private string SavePackage(string folder, string architecture)
    {
        string package = Dir(folder);
        using var net = ModelCatalogue.CreateBuiltIn().Create(architecture, Small, seed: 11);
        ModelPackage.Save(package, new ModelManifest { Name = "tiny", Version = "1", Architecture = architecture, Hyperparameters = Small }, net);
        return package;
    }

    private static double ForwardSum(string package)
    {
        var (_, net) = ModelPackage.Load(package, ModelCatalogue.CreateBuiltIn());
        using (net)
        using (no_grad())
        using (var x = tensor(Input(), [1, 1, 64, 64]))
        using (var y = net.forward(x))
            return y.sum().item<float>();
    }

    private const string PyTorchSide = """
        import sys, json, math, torch
        sys.path.insert(0, sys.argv[1])
        import pytorch_models as pm
        net = pm.create(sys.argv[4], 2, 1, 2, base=4, depth=2)
        net.load_state_dict(torch.load(sys.argv[2]), strict=True)
        net.eval()
        x = torch.tensor([math.sin(i * 0.37) + 0.01 * (i % 17) for i in range(64 * 64)], dtype=torch.float32).reshape(1, 1, 64, 64)
        with torch.no_grad():
            before = float(net(x).sum())
            for name, p in net.named_parameters():
                if name.endswith("weight") and p.dim() > 1: p.mul_(0.5)
                if name.endswith("alpha"): p.add_(0.25)  # edu-dense, edu-lean: MdeLite away from the identity
            after = float(net(x).sum())
        torch.save(net.state_dict(), sys.argv[3])
        print(json.dumps({"before": before, "after": after}))
        """;

    [Theory]
    [InlineData("edu")]
    [InlineData("edu-dense")]
    [InlineData("edu-lean")]
    public async Task Weights_go_to_pytorch_and_come_back_with_the_same_outputs(string architecture)
    {
        string package = SavePackage("pkg", architecture);

        var export = EduProcess.Run(["models", "export", "--model", package, "--out", Dir("w.pt"), "--json"]);
        Assert.True(export.ExitCode == 0, export.StdErr);
        Assert.Equal(architecture, JsonDocument.Parse(export.StdOut).RootElement.GetProperty("architecture").GetString());

        var python = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in (string[])["-c", PyTorchSide, Path.Combine(RepositoryRoot(), "bench"), Dir("w.pt"), Dir("changed.pt"), architecture]) python.ArgumentList.Add(a);
        using var process = Process.Start(python)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, "PyTorch could not load the exported state dict:\n" + await stderr);
        var sums = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;

        double ours = ForwardSum(package);
        Assert.Equal(sums.GetProperty("before").GetDouble(), ours, Math.Abs(ours) * 1e-4 + 1e-3);

        var import = EduProcess.Run(["models", "import", "--model", package, "--weights", Dir("changed.pt"), "--out", Dir("imported")]);
        Assert.True(import.ExitCode == 0, import.StdErr);
        double imported = ForwardSum(Dir("imported"));
        Assert.Equal(sums.GetProperty("after").GetDouble(), imported, Math.Abs(imported) * 1e-4 + 1e-3);
        Assert.NotEqual(ours, imported, 3);
    }

    [Fact]
    public void Export_never_overwrites_and_import_refuses_weights_of_another_architecture()
    {
        string package = SavePackage("pkg", "edu");
        var export = EduProcess.Run(["models", "export", "--model", package, "--out", Dir("w.pt")]);
        Assert.True(export.ExitCode == 0, export.StdErr);
        var again = EduProcess.Run(["models", "export", "--model", package, "--out", Dir("w.pt")]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("exists already", again.StdErr);
        string other = Dir("unet");
        using (var unet = ModelCatalogue.CreateBuiltIn().Create("unet", Small, seed: 1))
            ModelPackage.Save(other, new ModelManifest { Name = "u", Version = "1", Architecture = "unet", Hyperparameters = Small }, unet);
        var mismatch = EduProcess.Run(["models", "import", "--model", other, "--weights", Dir("w.pt"), "--out", Dir("never")]);
        Assert.Equal(2, mismatch.ExitCode);
        Assert.StartsWith("error:", mismatch.StdErr.Trim());
        Assert.False(Directory.Exists(Dir("never")));
    }
}
