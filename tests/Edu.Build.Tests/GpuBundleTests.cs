using System.Diagnostics;
using System.Text.Json;

namespace Edu.Build.Tests;

/// <summary>
/// build/gpu-bundle.sh end to end on the CPU: publish with TorchBackend=none, pack, unpack into a temporary folder, and run
/// its run-on-gpu.sh in the self-test mode with LibTorch from elsewhere (the NuGet libtorch-cpu folder, as a GPU machine's
/// torch/lib) and without GDCM, as on a GPU machine. Checks the report's values, not only its fields.
/// </summary>
public sealed class GpuBundleTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edu-gpu-bundle-" + Guid.NewGuid().ToString("N")[..10]);

    public GpuBundleTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }

    private static string NuGetLibTorch()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "libtorch-cpu-linux-x64", "2.10.0", "runtimes", "linux-x64", "native");
    }

    private static (int Code, string Out, string Err) Run(string file, IEnumerable<string> args, string workDir, int timeoutSeconds, IDictionary<string, string>? env = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workDir };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) info.Environment[k] = v;
        using var p = Process.Start(info)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }
        return (p.ExitCode, o.Result, e.Result);
    }

    [Fact]
    public void The_bundle_unpacks_and_runs_its_self_test_with_libtorch_from_elsewhere()
    {
        string repo = GlobalGeneratorRuleTests.RepositoryRoot();
        string tar = Path.Combine(_root, "bundle.tar.xz");
        var pack = Run(Path.Combine(repo, "build", "gpu-bundle.sh"), ["--out", tar], repo, 600);
        Assert.True(pack.Code == 0, pack.Err + pack.Out);
        Assert.True(new FileInfo(tar).Length < 100_000_000, $"{new FileInfo(tar).Length} bytes");

        var unpack = Run("tar", ["xf", tar], _root, 120);
        Assert.True(unpack.Code == 0, unpack.Err);
        string bundle = Path.Combine(_root, "edu-gpu-bundle");
        var files = Directory.EnumerateFiles(bundle, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.DoesNotContain(files, f => f!.Contains(".so", StringComparison.Ordinal)
            && (f.StartsWith("libtorch", StringComparison.Ordinal) || f.StartsWith("libc10", StringComparison.Ordinal) || f.StartsWith("libgomp", StringComparison.Ordinal)));
        Assert.True(File.Exists(Path.Combine(bundle, "libtorchsharp-check.py")));
        Assert.True(File.Exists(Path.Combine(bundle, "prebuilt", "libLibTorchSharp.so")));

        // Without any LibTorch the published edu still starts.
        var help = Run(Path.Combine(bundle, "edu", "edu"), ["--help"], bundle, 60, new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = "" });
        Assert.True(help.Code == 0, help.Err);
        Assert.Contains("doctor", help.Out, StringComparison.Ordinal);

        string report = Path.Combine(_root, "report");
        var run = Run(Path.Combine(bundle, "run-on-gpu.sh"),
            ["--torch-lib", NuGetLibTorch(), "--device", "cpu", "--quick", "--models", "unet,edu-lean", "--out", report, "--time-limit", "400"],
            _root, 480, new Dictionary<string, string> { ["EDU_GDCM_DIR"] = Path.Combine(_root, "no-gdcm-here") });
        string log = run.Err + run.Out;
        Assert.True(File.Exists(Path.Combine(report, "report.json")), log);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "report.json")));
        var r = doc.RootElement;
        Assert.True(run.Code == 0, "failed steps: " + r.GetProperty("failed").ToString() + "\n" + log);
        Assert.Equal(0, r.GetProperty("failed").GetArrayLength());
        Assert.Equal("cpu", r.GetProperty("device").GetString());

        // TorchSharp's prebuilt glue against the LibTorch it was built for: every symbol binds.
        var lts = r.GetProperty("libtorchsharp");
        Assert.Equal("prebuilt", lts.GetProperty("source").GetString());
        Assert.Contains("LibTorch 2.10", lts.GetProperty("origin").GetString(), StringComparison.Ordinal);
        Assert.True(lts.GetProperty("undefined_symbols").GetInt32() > 100);
        Assert.Equal(0, lts.GetProperty("missing_symbols").GetInt32());

        var doctor = r.GetProperty("doctor");
        Assert.True(doctor.GetProperty("loaded").GetBoolean());
        Assert.Equal("2.10.0", doctor.GetProperty("libtorch").GetString());
        Assert.Equal("none", doctor.GetProperty("backend").GetString());
        Assert.Contains(doctor.GetProperty("problems").EnumerateArray(), p => p.GetProperty("component").GetString() == "GDCM");

        var parity = r.GetProperty("parity");
        Assert.True(parity.GetProperty("pass").GetBoolean());
        Assert.Equal(0, parity.GetProperty("max_abs_loss_diff").GetDouble());
        Assert.True(parity.GetProperty("runs")[0].GetProperty("losses")[0].GetDouble() > 0);

        var bench = r.GetProperty("bench_train").EnumerateArray().ToList();
        Assert.Equal(["unet/2", "unet/3", "edu-lean/2", "edu-lean/3"], bench.Select(b => $"{b.GetProperty("model").GetString()}/{b.GetProperty("dims").GetInt32()}"));
        Assert.All(bench, b => Assert.True(b.GetProperty("ats_ms").GetDouble() > 0 && b.GetProperty("peak_rss_mb").GetDouble() > 0, b.ToString()));

        var seg = r.GetProperty("segmentation");
        Assert.Equal(3, seg.GetProperty("image_2d").GetProperty("cases").GetInt32());
        Assert.True(seg.GetProperty("image_2d").GetProperty("median_predict_ms_after_first").GetDouble() > 0);
        Assert.Equal(1, seg.GetProperty("ct").GetProperty("cases").GetInt32());
        Assert.Equal([64, 64, 20], seg.GetProperty("ct").GetProperty("size").EnumerateArray().Select(x => x.GetInt32()));

        var worker = r.GetProperty("worker");
        Assert.True(worker.GetProperty("train_events").GetInt32() > 0);
        Assert.Equal("gpucheck", worker.GetProperty("train_last").GetProperty("finished").GetProperty("modelName").GetString());
        Assert.True(worker.GetProperty("segment").ValueKind == JsonValueKind.Object, worker.ToString());

        // Against another torch (Debian's 1.13: API drift) the run says so at once: the symbols it lacks, how loading fails,
        // and every net step skipped rather than failed one by one.
        string drift = Path.Combine(_root, "drift");
        var other = Run(Path.Combine(bundle, "run-on-gpu.sh"),
            ["--torch-lib", "/usr/lib/python3/dist-packages/torch/lib", "--device", "cpu", "--quick", "--models", "unet", "--out", drift, "--time-limit", "120"],
            _root, 180);
        Assert.Equal(1, other.Code);
        using var driftDoc = JsonDocument.Parse(File.ReadAllText(Path.Combine(drift, "report.json")));
        var d = driftDoc.RootElement;
        Assert.True(d.GetProperty("libtorchsharp").GetProperty("missing_symbols").GetInt32() > 100, d.GetProperty("libtorchsharp").ToString());
        Assert.Contains(d.GetProperty("libtorchsharp").GetProperty("missing_examples").EnumerateArray(), s => s.GetString()!.StartsWith("_ZN2at", StringComparison.Ordinal));
        var steps = d.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("status").GetString());
        Assert.Equal("fail", steps["symbols"]);
        Assert.Equal("skipped", steps["parity"]);
        Assert.Equal("skipped", steps["worker"]);
        Assert.True(d.GetProperty("duration_s").GetInt32() < 60, d.GetProperty("duration_s").ToString());
    }
}
