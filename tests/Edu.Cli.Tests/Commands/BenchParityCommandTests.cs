using System.Text.Json;

namespace Edu.Cli.Tests.Commands;

public sealed class BenchParityCommandTests
{
    [Fact]
    public void Cpu_against_cpu_trains_the_same_steps_to_the_same_losses_and_masks()
    {
        var r = EduProcess.Run(["bench", "parity", "--devices", "cpu,cpu", "--model", "unet", "--size", "32", "--batch", "2", "--steps", "3",
            "--base", "4", "--threads", "1", "--seed", "7", "--loss-tolerance", "0", "--mask-tolerance", "0", "--json"]);
        Assert.True(r.ExitCode == 0, r.StdErr + r.StdOut);

        using var doc = JsonDocument.Parse(r.StdOut.Trim().Split('\n')[^1]);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("pass").GetBoolean());
        Assert.Equal(7, root.GetProperty("seed").GetInt64());
        Assert.False(root.GetProperty("tf32").GetBoolean());
        var runs = root.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["cpu", "cpu"], runs.Select(x => x.GetProperty("device").GetString()));
        var losses = runs.Select(x => x.GetProperty("losses").EnumerateArray().Select(l => l.GetSingle()).ToArray()).ToList();
        Assert.Equal(3, losses[0].Length);
        // BCE + (1 − Dice) of a fresh net on a random batch: finite, positive, and the steps really train (not one value repeated)
        Assert.All(losses[0], l => Assert.True(float.IsFinite(l) && l > 0 && l < 3, $"loss {l}"));
        Assert.True(losses[0].Distinct().Count() > 1, "the losses of different steps should differ");
        Assert.Equal(losses[0], losses[1]);
        Assert.Equal(0, root.GetProperty("max_abs_loss_diff").GetDouble());
        Assert.Equal(2 * 32 * 32, runs[1].GetProperty("mask_voxels").GetInt64());
        Assert.Equal(0, runs[1].GetProperty("mask_differing_voxels").GetInt64());
        Assert.Equal(1, runs[1].GetProperty("mask_agreement_dice").GetDouble());
    }

    [Fact]
    public void A_different_seed_gives_different_losses()
    {
        float First(string seed)
        {
            var r = EduProcess.Run(["bench", "parity", "--devices", "cpu,cpu", "--size", "32", "--steps", "1", "--base", "4", "--threads", "1", "--seed", seed, "--json"]);
            Assert.True(r.ExitCode == 0, r.StdErr);
            using var doc = JsonDocument.Parse(r.StdOut.Trim().Split('\n')[^1]);
            return doc.RootElement.GetProperty("runs")[0].GetProperty("losses")[0].GetSingle();
        }
        Assert.NotEqual(First("1"), First("2"));
    }

    [Theory]
    [InlineData("--devices", "cpu")]
    [InlineData("--devices", "cpu,gpu")]
    [InlineData("--steps", "0")]
    [InlineData("--size", "30")]
    [InlineData("--mask-tolerance", "2")]
    [InlineData("--model", "no-such-net")]
    public void Bad_options_are_refused_with_exit_code_2_naming_the_option(string option, string value)
    {
        var r = EduProcess.Run(["bench", "parity", option, value]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(option, r.StdErr, StringComparison.Ordinal);
    }
}
