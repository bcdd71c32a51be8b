using System.Text.Json;

namespace Edu.Cli.Tests.Commands;

public sealed class QuickstartCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edu-qs-cli-" + Guid.NewGuid().ToString("N")[..10]);

    public QuickstartCommandTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public void A_short_quickstart_writes_everything_and_ends_with_one_json_line()
    {
        // two epochs only (the full quickstart is timed by hand, not in tests); the shape of the output is what is tested
        string outDir = Path.Combine(_root, "qs");
        var r = EduProcess.Run(["quickstart", "--out", outDir, "--epochs", "2"]);
        Assert.True(r.ExitCode == 0, r.StdErr);
        string last = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        var json = JsonDocument.Parse(last).RootElement;
        Assert.Equal(["dice", "iou", "model", "seconds", "out"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(outDir, json.GetProperty("out").GetString());
        Assert.InRange(json.GetProperty("dice").GetDouble(), 0, 1);
        string modelJson = File.ReadAllText(Path.Combine(json.GetProperty("model").GetString()!, "model.json"));
        Assert.Equal(Edu.Models.Catalogue.ModelCatalogue.DefaultModel, System.Text.Json.JsonDocument.Parse(modelJson).RootElement.GetProperty("architecture").GetString());
        Assert.True(File.Exists(Path.Combine(outDir, "run", "curves.png")));
        Assert.Equal(10, Directory.GetFiles(Path.Combine(outDir, "overlays"), "*.png").Length);
        Assert.True(File.Exists(Path.Combine(outDir, "evaluation.json")));
    }

    [Fact]
    public void A_non_empty_out_folder_is_refused_and_left_alone()
    {
        string outDir = Path.Combine(_root, "mine");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "keep.txt"), "x");
        var r = EduProcess.Run(["quickstart", "--out", outDir]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not empty", r.StdErr);
        Assert.Equal(["keep.txt"], Directory.EnumerateFileSystemEntries(outDir).Select(Path.GetFileName));
    }
}
