using System.Text.Json;

namespace Edu.Cli.Tests.Commands;

public sealed class DoctorCommandTests
{
    [Fact]
    public void Json_reports_torchsharp_libtorch_cpu_and_gdcm_loaded_and_exits_zero()
    {
        var run = EduProcess.Run(["doctor", "--json"]);

        Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
        using var json = JsonDocument.Parse(run.StdOut);
        var root = json.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.Equal("0.107.0", root.GetProperty("torch").GetProperty("torchSharp").GetString());
        Assert.Equal("2.10.0", root.GetProperty("torch").GetProperty("libTorch").GetString()); // LibTorch's own three-part version
        Assert.True(root.GetProperty("torch").GetProperty("loaded").GetBoolean());
        Assert.Equal("cpu", root.GetProperty("torch").GetProperty("backend").GetString());
        Assert.True(root.GetProperty("devices").GetProperty("torchThreads").GetInt32() >= 1);
        Assert.StartsWith("3.0", root.GetProperty("gdcm").GetProperty("version").GetString());
        Assert.True(root.GetProperty("gdcm").GetProperty("loaded").GetBoolean());
        Assert.Empty(root.GetProperty("problems").EnumerateArray());
    }

    [Fact]
    public void Plugin_folders_include_the_hosts_plugins_folder_and_edu_plugins_path()
    {
        string extra = Path.Combine(Path.GetTempPath(), "edu-extra-plugins");
        var run = EduProcess.Run(["doctor", "--json"], new Dictionary<string, string> { ["EDU_PLUGINS_PATH"] = extra });

        using var json = JsonDocument.Parse(run.StdOut);
        var folders = json.RootElement.GetProperty("pluginFolders").EnumerateArray().Select(f => f.GetProperty("path").GetString()).ToList();
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "plugins"), folders[0]);
        Assert.Contains(extra, folders);
    }

    [Fact]
    public void Without_gdcms_binding_it_exits_non_zero_and_names_the_package()
    {
        string empty = Directory.CreateTempSubdirectory("edu-no-gdcm-").FullName;
        try
        {
            var run = EduProcess.Run(["doctor"], new Dictionary<string, string> { ["EDU_GDCM_DIR"] = empty });

            Assert.Equal(1, run.ExitCode);
            Assert.Contains("problem: GDCM", run.StdOut);
            Assert.Contains("apt-get install libgdcm-cil", run.StdOut);
            Assert.Contains("LibTorch", run.StdOut); // the rest is still reported
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void An_unknown_option_is_a_usage_error_with_exit_code_2()
    {
        var run = EduProcess.Run(["doctor", "--no-such-option"]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error:", run.StdErr);
        Assert.Empty(run.StdOut);
    }
}
