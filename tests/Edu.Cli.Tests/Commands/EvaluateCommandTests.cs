using System.Text.Json;

namespace Edu.Cli.Tests.Commands;

public sealed class EvaluateCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edu-eval-cli-" + Guid.NewGuid().ToString("N")[..10]);

    public EvaluateCommandTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public void Json_has_per_case_and_mean_metrics_for_the_held_out_cases()
    {
        string data = TrainCommandTests.Synth(_root, 6, 2);
        string run = Path.Combine(_root, "run");
        var t = EduProcess.Run(TrainCommandTests.TinyArgs(data, run, 2));
        Assert.True(t.ExitCode == 0, t.StdErr);

        var r = EduProcess.Run(["evaluate", "--model", run, "--dataset", data, "--json"]);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Single(r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var json = JsonDocument.Parse(r.StdOut).RootElement;
        Assert.Equal("test", json.GetProperty("source").GetString());
        var cases = json.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(["xray_006", "xray_007"], cases.Select(c => c.GetProperty("case").GetString()));
        double mean = cases.Average(c => c.GetProperty("dice").GetDouble());
        Assert.Equal(mean, json.GetProperty("dice").GetDouble(), 9);
        Assert.InRange(mean, 0, 1);
        foreach (var c in cases)
        {
            var labels = c.GetProperty("labels").EnumerateArray().ToList();
            Assert.Equal([1, 2], labels.Select(l => l.GetProperty("label").GetInt32()));
            foreach (var l in labels)
            {
                var hd = l.GetProperty("hd95");
                // HD95 is a distance when both masks have the label, null when exactly one is empty
                bool oneEmpty = (l.GetProperty("truth_voxels").GetInt64() == 0) != (l.GetProperty("predicted_voxels").GetInt64() == 0);
                Assert.Equal(oneEmpty ? JsonValueKind.Null : JsonValueKind.Number, hd.ValueKind);
            }
        }
        Assert.True(json.GetProperty("per_label_dice").TryGetProperty("left_lung", out _));
    }

    [Fact]
    public void A_folder_that_is_not_a_model_is_bad_input()
    {
        string data = TrainCommandTests.Synth(_root, 2, 1);
        var r = EduProcess.Run(["evaluate", "--model", Path.Combine(_root, "nothing"), "--dataset", data]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error:", r.StdErr);
    }
}
