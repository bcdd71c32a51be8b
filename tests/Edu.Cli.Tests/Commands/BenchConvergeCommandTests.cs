using System.Text.Json;

namespace Edu.Cli.Tests.Commands;

public sealed class BenchConvergeCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edu-converge-cli-" + Guid.NewGuid().ToString("N")[..10]);

    public BenchConvergeCommandTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public void Trains_every_model_on_the_same_data_and_writes_the_table_the_json_and_the_chart()
    {
        string data = TrainCommandTests.Synth(_root);
        string output = Path.Combine(_root, "converge");
        var r = EduProcess.Run(["bench", "converge", "--dataset", data, "--models", "unet,edu", "--epochs", "2", "--steps", "1", "--batch", "2",
            "--base", "4", "--depth", "2", "--threads", "1", "--target", "0.01", "--preprocessing", "percentile(low=0.5, high=99.5)",
            "--out", output, "--json"]);
        Assert.True(r.ExitCode == 0, r.StdErr);

        using var doc = JsonDocument.Parse(r.StdOut.Trim().Split('\n')[^1]);
        var rows = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(["unet", "edu"], rows.Select(x => x.GetProperty("model").GetString()));
        foreach (var row in rows)
        {
            foreach (string key in new[] { "parameters", "epochs_to_target", "seconds_to_target", "ats_ms", "pmu_mb", "final_dice", "best_dice", "run" })
                Assert.True(row.TryGetProperty(key, out _), key);
            Assert.True(row.GetProperty("ats_ms").GetDouble() > 0);
            string run = row.GetProperty("run").GetString()!;
            Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "log.jsonl")).Length);
        }
        Assert.True(File.Exists(Path.Combine(output, "converge.png")));
        using var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "converge.json")));
        Assert.Equal("edu", saved.RootElement[1].GetProperty("model").GetString());
    }

    [Fact]
    public void A_target_outside_zero_to_one_is_refused_with_exit_code_2()
    {
        var r = EduProcess.Run(["bench", "converge", "--dataset", _root, "--target", "1.5", "--out", Path.Combine(_root, "o")]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--target", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_dataset_is_refused_before_anything_is_written()
    {
        string output = Path.Combine(_root, "never");
        var r = EduProcess.Run(["bench", "converge", "--dataset", Path.Combine(_root, "missing"), "--out", output]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("missing", r.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }
    [Fact]
    public void An_unknown_model_is_refused_before_any_model_trains()
    {
        string output = Path.Combine(_root, "never");
        var r = EduProcess.Run(["bench", "converge", "--dataset", Path.Combine(_root, "missing"), "--models", "unet,nope", "--out", output]);
        Assert.Equal(2, r.ExitCode);
        string error = r.StdErr.Trim().Split('\n')[^1];
        Assert.DoesNotContain("nope: nope:", error, StringComparison.Ordinal); // the child's prefix is not repeated
        Assert.Contains("no model named 'nope'", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }
}
