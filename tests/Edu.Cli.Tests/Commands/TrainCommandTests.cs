using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Edu.Cli.Tests.Commands;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edu-train-cli-" + Guid.NewGuid().ToString("N")[..10]);

    public TrainCommandTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }

    internal static string Synth(string root, int count = 8, int test = 2)
    {
        string data = Path.Combine(root, "data");
        var r = EduProcess.Run(["synth", "--modality", "xray", "--count", $"{count}", "--test", $"{test}", "--size", "32", "--out", data]);
        Assert.True(r.ExitCode == 0, r.StdErr);
        return data;
    }

    internal static string[] TinyArgs(string data, string run, int epochs) =>
    [
        "train", "--dataset", data, "--out", run, "--model", "unet", "--base", "4", "--depth", "2", "--epochs", $"{epochs}",
        "--steps", "3", "--batch", "4", "--threads", "1", "--seed", "1", "--preprocessing", "percentile(low=0.5, high=99.5)",
    ];

    // at the CPU's own oneDNN ISA and with it capped at AVX2 (docs/cpu.md): both must resume exactly
    [Theory]
    [InlineData("default")]
    [InlineData("AVX2")]
    public void Resume_after_sigkill_continues_from_the_checkpoint_and_ends_with_the_uninterrupted_weights(string isa)
    {
        var environment = isa == "default" ? new Dictionary<string, string>() : new Dictionary<string, string> { ["ONEDNN_MAX_CPU_ISA"] = isa };
        string data = Synth(_root);
        string straight = Path.Combine(_root, "straight"), killed = Path.Combine(_root, "killed");
        var full = EduProcess.Run(TinyArgs(data, straight, 8), environment);
        Assert.True(full.ExitCode == 0, full.StdErr);

        // start the same run, SIGKILL it as soon as the first checkpoint exists
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "edu.dll"));
        foreach (string a in TinyArgs(data, killed, 8)) info.ArgumentList.Add(a);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        string state = Path.Combine(killed, "checkpoints", "last", "trainer.json");
        using (var process = Process.Start(info)!)
        {
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var clock = Stopwatch.StartNew();
            while (!File.Exists(state) && !process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3)) Thread.Sleep(10);
            Assert.False(process.HasExited, "the run ended before it could be killed");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        Assert.False(Directory.Exists(Path.Combine(killed, "model")));
        var resumed = EduProcess.Run(["train", "--out", killed, "--resume", "--threads", "1"], environment);
        Assert.True(resumed.ExitCode == 0, resumed.StdErr);
        int after;
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(killed, "checkpoints", "last", "trainer.json"))))
            after = doc.RootElement.GetProperty("epoch").GetInt32();
        Assert.Equal(8, after);
        Assert.Matches(@"resuming after epoch [1-7]\b", resumed.StdOut);
        Assert.Equal(8, File.ReadAllLines(Path.Combine(killed, "log.jsonl")).Length);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "checkpoints", "last", "weights.safetensors")),
            File.ReadAllBytes(Path.Combine(killed, "checkpoints", "last", "weights.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "model", "weights.safetensors")),
            File.ReadAllBytes(Path.Combine(killed, "model", "weights.safetensors")));
    }

    [Fact]
    public void An_existing_non_empty_run_folder_is_refused_without_resume()
    {
        string data = Synth(_root, 4, 1);
        string run = Path.Combine(_root, "run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "notes.txt"), "mine");
        var r = EduProcess.Run(TinyArgs(data, run, 1));
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error:", r.StdErr);
        Assert.Contains("--resume", r.StdErr);
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(run).Select(Path.GetFileName));
    }

    [Fact]
    public void A_dataset_without_dataset_json_is_bad_input_naming_the_file()
    {
        Directory.CreateDirectory(Path.Combine(_root, "empty", "imagesTr"));
        var r = EduProcess.Run(TinyArgs(Path.Combine(_root, "empty"), Path.Combine(_root, "run"), 1));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("dataset.json", r.StdErr);
        Assert.Contains("missing", r.StdErr);
    }

    [Fact]
    public void An_absurd_learning_rate_diverges_with_exit_1_one_error_line_and_no_checkpoint_yet()
    {
        string data = Synth(_root, 8, 2);
        string run = Path.Combine(_root, "run");

        var r = EduProcess.Run([.. TinyArgs(data, run, 2), "--lr", "1e30"]);

        Assert.Equal(1, r.ExitCode);
        string line = Assert.Single(r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^error: training diverged at epoch 1 step \d+ \(loss (NaN|-?Infinity)\); no checkpoint yet$", line);
        Assert.False(Directory.Exists(run)); // nothing left: the same command with a sane --lr can run at once
    }

    [Fact]
    public void Divergence_after_a_good_epoch_keeps_every_file_of_that_epoch_byte_identical()
    {
        string data = Synth(_root, 8, 2);
        string run = Path.Combine(_root, "run");
        var first = EduProcess.Run(TinyArgs(data, run, 1));
        Assert.True(first.ExitCode == 0, first.StdErr);
        // --resume takes the run's own options.json, so make epoch 2 diverge there: one more epoch at an absurd learning rate
        string optionsPath = Path.Combine(run, "options.json");
        var options = JsonNode.Parse(File.ReadAllText(optionsPath))!;
        options["epochs"] = 2;
        options["lr"] = 1e30;
        File.WriteAllText(optionsPath, options.ToJsonString());
        var before = Directory.EnumerateFiles(run, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

        var r = EduProcess.Run(["train", "--out", run, "--resume", "--threads", "1"]);

        Assert.Equal(1, r.ExitCode);
        string line = Assert.Single(r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches($@"^error: training diverged at epoch 2 step \d+ \(loss (NaN|-?Infinity)\); last good checkpoint: {Regex.Escape(Path.Combine(run, "checkpoints", "last"))}$", line);
        Assert.Contains("resuming after epoch 1", r.StdOut);
        var after = Directory.EnumerateFiles(run, "*", SearchOption.AllDirectories).ToList();
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Order(StringComparer.Ordinal)); // checkpoints/last, best, model/, log.jsonl, curves.png
        foreach (var (file, bytes) in before)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(file)), file);
    }
}
