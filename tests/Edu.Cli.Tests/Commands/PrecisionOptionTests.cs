using System.Text.Json;
using Edu.Models.Runtime;

namespace Edu.Cli.Tests.Commands;

/// <summary><c>--precision</c> on <c>train</c>, <c>quickstart</c>, <c>bench train</c> and <c>remote train</c>: bad values exit 2 naming the option; bf16 runs and says so.</summary>
public sealed class PrecisionOptionTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edu-precision-cli-" + Guid.NewGuid().ToString("N")[..10]);

    public PrecisionOptionTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }

    [Theory]
    [InlineData("train", "--dataset", "DATA", "--out", "RUN")]
    [InlineData("quickstart", "--out", "RUN")]
    [InlineData("bench", "train", "--model", "unet")]
    [InlineData("remote", "train", "--dataset", "d", "--model-name", "m", "--server", "http://127.0.0.1:9")]
    public void An_unknown_precision_exits_2_naming_the_option_and_writes_nothing(params string[] command)
    {
        string run = Path.Combine(_root, "run");
        var args = command.Select(a => a switch { "DATA" => _root, "RUN" => run, _ => a }).Append("--precision").Append("fp8");
        var r = EduProcess.Run(args);
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.StdErr}");
        Assert.Contains("--precision: 'fp8' is not a precision: use fp32, bf16, fp16", r.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void Bench_train_refuses_what_the_cpu_cannot_train_and_reports_the_precision_it_ran()
    {
        if (!Precisions.HasFastFloat16(CpuInfo.Current))
        {
            var half = EduProcess.Run(["bench", "train", "--model", "unet", "--precision", "fp16"]);
            Assert.True(half.ExitCode == 2, half.StdErr);
            Assert.Contains("fp16 is not offered on this CPU", half.StdErr, StringComparison.Ordinal);
        }
        var volume = EduProcess.Run(["bench", "train", "--model", "unet", "--dims", "3", "--precision", "bf16"]);
        Assert.True(volume.ExitCode == 2, volume.StdErr);
        Assert.Contains("not offered for 3-D nets on the CPU", volume.StdErr, StringComparison.Ordinal);

        var r = EduProcess.Run(["bench", "train", "--model", "unet", "--base", "4", "--size", "32", "--steps", "2", "--warmup", "0", "--precision", "bf16", "--json"]);
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var result = JsonDocument.Parse(r.StdOut.Trim().Split('\n')[^1]);
        Assert.Equal("bf16", result.RootElement.GetProperty("precision").GetString());
        Assert.All(result.RootElement.GetProperty("losses").EnumerateArray(), l => Assert.True(float.IsFinite(l.GetSingle())));
    }
}
