using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Edu.Models.Catalogue;

namespace Edu.Cli.Tests.Commands;

/// <summary>
/// The CPU numerics of docs/cpu.md, end to end through the real <c>edu</c>: seeded training steps give finite, repeatable
/// losses at the CPU's own oneDNN ISA and with it capped at AVX2 (oneDNN reads the cap once per process, so each
/// configuration is a process of its own); the self-check's verdict, its cache and its fallback.
/// </summary>
public sealed partial class CpuNumericsTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("edu-numerics-cache-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_cache, recursive: true); }
        catch (IOException) { }
    }

    public static TheoryData<string, string> NetsAndIsas()
    {
        var data = new TheoryData<string, string>();
        foreach (string net in ModelCatalogue.BuiltInNames)
            foreach (string isa in new[] { "default", "AVX2" })
                data.Add(net, isa);
        return data;
    }

    [Theory]
    [MemberData(nameof(NetsAndIsas))]
    public void Seeded_training_steps_give_finite_repeatable_losses_at_the_default_and_the_capped_isa(string net, string isa)
    {
        var environment = isa == "default" ? [] : new Dictionary<string, string> { ["ONEDNN_MAX_CPU_ISA"] = isa };
        float[] Losses()
        {
            var run = EduProcess.Run(["bench", "train", "--model", net, "--size", "32", "--batch", "2", "--base", "8", "--steps", "3",
                "--warmup", "0", "--threads", "2", "--json"], environment);
            Assert.True(run.ExitCode == 0, run.StdErr);
            var result = JsonNode.Parse(run.StdOut.Trim().Split('\n')[^1])!;
            Assert.NotEqual("onednn-off", result["numerics"]!.GetValue<string>());
            return [.. result["losses"]!.AsArray().Select(l => l!.GetValue<float>())];
        }
        float[] first = Losses(), second = Losses();
        Assert.Equal(3, first.Length);
        Assert.All(first, l => Assert.True(float.IsFinite(l), $"{net} at {isa}: loss {l}"));
        Assert.Equal(first, second);
    }

    [Fact]
    public void The_first_loss_does_not_depend_on_the_isa()
    {
        float FirstLoss(Dictionary<string, string> environment)
        {
            var run = EduProcess.Run(["bench", "train", "--model", "edu", "--size", "32", "--batch", "2", "--base", "8", "--steps", "1",
                "--warmup", "0", "--json"], environment);
            Assert.True(run.ExitCode == 0, run.StdErr);
            return JsonNode.Parse(run.StdOut.Trim().Split('\n')[^1])!["losses"]![0]!.GetValue<float>();
        }
        float native = FirstLoss([]), capped = FirstLoss(new() { ["ONEDNN_MAX_CPU_ISA"] = "AVX2" });
        Assert.True(Math.Abs(native - capped) <= 1e-5 * Math.Abs(capped), $"first loss {native} at the CPU's ISA, {capped} at AVX2");
    }

    [Fact]
    public void Doctor_names_the_cpu_its_onednn_isa_as_onednn_itself_reports_it_and_the_self_checks_verdict()
    {
        var run = EduProcess.Run(["doctor", "--json"], Cache());
        Assert.True(run.ExitCode == 0, run.StdErr);
        var root = JsonNode.Parse(run.StdOut)!;
        var cpu = root["cpu"]!;
        Assert.False(string.IsNullOrWhiteSpace(cpu["model"]!.GetValue<string>()));
        Assert.Contains("avx2", cpu["flags"]!.AsArray().Select(f => f!.GetValue<string>()));
        var numerics = root["numerics"]!;
        // the faster layout of docs/cpu.md for this CPU's ISA (channels-last at AVX-512 levels; 2-D channels-first below)
        string isa = cpu["onednnIsa"]!.GetValue<string>();
        Assert.Equal(isa.StartsWith("AVX512", StringComparison.Ordinal) ? "channels-last" : "channels-first", numerics["layout2d"]!.GetValue<string>());
        Assert.Equal("channels-last", numerics["layout3d"]!.GetValue<string>());
        Assert.NotEqual("onednn-off", numerics["configuration"]!.GetValue<string>());
        Assert.True(numerics["channelsLastRight"]!.GetValue<bool>());
        Assert.False(numerics["cached"]!.GetValue<bool>()); // doctor always runs the check
        var cases = numerics["cases"]!.AsArray();
        Assert.Contains(cases, c => c!["layout"]!.GetValue<string>() == "channels-first");
        Assert.Contains(cases, c => c!["inChannels"]!.GetValue<int>() == 1);
        Assert.Contains(cases, c => c!["dims"]!.GetValue<int>() == 3);

        // oneDNN's own word on its ISA: ONEDNN_VERBOSE prints "isa:<name>" when it first runs a primitive
        // (inputs as small as 16² × 4 channels go to ATen's own kernels, so the net must be big enough for oneDNN to run)
        var verbose = EduProcess.Run(["bench", "train", "--model", "unet", "--size", "32", "--batch", "2", "--base", "8", "--steps", "1",
            "--warmup", "0"], new Dictionary<string, string>(Cache()) { ["ONEDNN_VERBOSE"] = "1" });
        Assert.True(verbose.ExitCode == 0, verbose.StdErr);
        string printed = IsaLine().Match(verbose.StdOut).Groups[1].Value.Trim();
        Assert.Equal(OneDnnIsaName(printed), cpu["onednnIsa"]!.GetValue<string>());
    }

    [Fact]
    public void A_capped_isa_is_reported_and_is_part_of_the_cache_key()
    {
        var native = EduProcess.Run(["bench", "train", "--model", "unet", "--size", "16", "--batch", "1", "--base", "4", "--steps", "1", "--json"], Cache());
        var capped = EduProcess.Run(["doctor", "--json"], new Dictionary<string, string>(Cache()) { ["ONEDNN_MAX_CPU_ISA"] = "AVX2" });
        Assert.True(native.ExitCode == 0 && capped.ExitCode == 0, native.StdErr + capped.StdErr);
        var cpu = JsonNode.Parse(capped.StdOut)!["cpu"]!;
        Assert.Equal("AVX2", cpu["onednnIsaCap"]!.GetValue<string>());
        Assert.Equal("AVX2", cpu["onednnIsa"]!.GetValue<string>());
        var numerics = JsonNode.Parse(capped.StdOut)!["numerics"]!;
        Assert.Equal("channels-first", numerics["layout2d"]!.GetValue<string>()); // faster in 2-D below AVX-512 (docs/cpu.md)
        Assert.Equal("channels-last", numerics["layout3d"]!.GetValue<string>());
        Assert.Equal(2, Directory.GetFiles(_cache, "numerics-*.json").Length); // one verdict per ISA cap
    }

    [Fact]
    public void A_verdict_that_channels_last_is_wrong_makes_every_process_run_without_onednn_and_say_so()
    {
        string cacheFile = WarmCache();
        var stored = JsonNode.Parse(File.ReadAllText(cacheFile))!;
        MarkWrong(stored["Cases"]!.AsArray());
        stored["OneDnnOffCases"] = null; // the process checks oneDNN-off itself
        File.WriteAllText(cacheFile, stored.ToJsonString());

        var run = EduProcess.Run(["bench", "train", "--model", "unet", "--size", "16", "--batch", "1", "--base", "4", "--steps", "2", "--json"], Cache());
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Equal("onednn-off", JsonNode.Parse(run.StdOut.Trim().Split('\n')[^1])!["numerics"]!.GetValue<string>());
        Assert.Matches("numerics: oneDNN's .*channels-.* convolutions are wrong on this CPU", run.StdErr);
        Assert.NotNull(JsonNode.Parse(File.ReadAllText(cacheFile))!["OneDnnOffCases"]); // and remembers it
        Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("numerics:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_cpu_on_which_nothing_computes_right_stops_the_command_with_exit_1_and_a_clear_error()
    {
        string cacheFile = WarmCache();
        var stored = JsonNode.Parse(File.ReadAllText(cacheFile))!;
        MarkWrong(stored["Cases"]!.AsArray());
        stored["OneDnnOffCases"] = stored["Cases"]!.DeepClone();
        File.WriteAllText(cacheFile, stored.ToJsonString());

        var run = EduProcess.Run(["bench", "train", "--model", "unet", "--size", "16", "--batch", "1", "--base", "4", "--steps", "1"], Cache());
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("error: no configuration computes convolutions right on this CPU", run.StdErr);
        Assert.Contains("ONEDNN_MAX_CPU_ISA=AVX2", run.StdErr);
    }

    [Fact]
    public void Onednn_off_on_request_is_checked_right_and_trains()
    {
        var env = new Dictionary<string, string>(Cache()) { ["EDU_CPU_NUMERICS"] = "onednn-off" };
        var doctor = EduProcess.Run(["doctor", "--json"], env);
        Assert.True(doctor.ExitCode == 0, doctor.StdErr);
        var numerics = JsonNode.Parse(doctor.StdOut)!["numerics"]!;
        Assert.Equal("onednn-off", numerics["configuration"]!.GetValue<string>());
        Assert.All(numerics["cases"]!.AsArray(), c => Assert.True(c!["right"]!.GetValue<bool>(), c!.ToJsonString()));

        var bench = EduProcess.Run(["bench", "train", "--model", "unet-mde", "--size", "32", "--batch", "2", "--base", "8", "--steps", "2", "--json"], env);
        Assert.True(bench.ExitCode == 0, bench.StdErr);
        var losses = JsonNode.Parse(bench.StdOut.Trim().Split('\n')[^1])!["losses"]!.AsArray().Select(l => l!.GetValue<float>());
        Assert.All(losses, l => Assert.True(float.IsFinite(l)));
    }

    [Theory]
    [InlineData("EDU_CPU_NUMERICS", "fast")]
    [InlineData("EDU_MEMORY_FORMAT", "nchw16c")]
    public void An_unknown_numerics_setting_is_bad_input_naming_the_variable(string variable, string value)
    {
        var run = EduProcess.Run(["bench", "train", "--model", "unet", "--size", "16", "--batch", "1", "--base", "4", "--steps", "1"],
            new Dictionary<string, string>(Cache()) { [variable] = value });
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"error: {variable}: '{value}'", run.StdErr);
    }

    private Dictionary<string, string> Cache() => new() { ["EDU_CACHE_DIR"] = _cache };

    // a forged verdict: every case of the check disagreed with float64
    private static void MarkWrong(JsonArray cases)
    {
        foreach (var c in cases) c!["right"] = false;
    }

    // runs one short command so that the self-check writes its verdict; returns the cache file
    private string WarmCache()
    {
        var run = EduProcess.Run(["bench", "train", "--model", "unet", "--size", "16", "--batch", "1", "--base", "4", "--steps", "1"], Cache());
        Assert.True(run.ExitCode == 0, run.StdErr);
        return Assert.Single(Directory.GetFiles(_cache, "numerics-*.json"));
    }

    [GeneratedRegex(@"onednn_verbose,[^\n]*,info,cpu,isa:([^\n]*)")]
    private static partial Regex IsaLine();

    // oneDNN's descriptions of its ISA levels (src/cpu/x64/cpu_isa_traits.hpp), as its verbose mode prints them
    private static string OneDnnIsaName(string description) => description switch
    {
        "Intel SSE4.1" => "SSE41",
        "Intel AVX" => "AVX",
        "Intel AVX2" => "AVX2",
        "Intel AVX-512 with AVX512BW, AVX512VL, and AVX512DQ extensions" => "AVX512_CORE",
        "Intel AVX-512 with Intel DL Boost" => "AVX512_CORE_VNNI",
        "Intel AVX-512 with Intel DL Boost and bfloat16 support" => "AVX512_CORE_BF16",
        "Intel AVX-512 with float16, Intel DL Boost and bfloat16 support" => "AVX512_CORE_FP16",
        "Intel AVX-512 with float16, Intel DL Boost and bfloat16 support and Intel AMX with bfloat16 and 8-bit integer support" => "AVX512_CORE_AMX",
        _ => $"unmapped: {description.ToString(CultureInfo.InvariantCulture)}",
    };
}
