using System.Diagnostics;
using Edu.Build;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Edu.Build.Tests;

public sealed class ElfVersionNeedPatcherTests : IDisposable
{
    private const string Missing = "GLIBCXX_3.4.32";
    private readonly string _dir = Directory.CreateTempSubdirectory("edu-elf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The library as NuGet ships it, before any patch.
    private static string PristineLibTorchSharp()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    private string CopyOfPristine()
    {
        string copy = Path.Combine(_dir, "libLibTorchSharp.so");
        File.Copy(PristineLibTorchSharp(), copy);
        return copy;
    }

    private static ElfVersionNeedPatcher.VersionNeed Need(string path, string version) =>
        ElfVersionNeedPatcher.ReadVersionNeeds(File.ReadAllBytes(path), path).Single(n => n.Version == version);

    [Fact]
    public void The_shipped_library_needs_glibcxx_3_4_32_strongly_from_libstdcxx()
    {
        var need = Need(PristineLibTorchSharp(), Missing);
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.False(need.IsWeak);
    }

    [Fact]
    public void Marking_weak_changes_that_one_need_and_nothing_else_and_is_idempotent()
    {
        string path = CopyOfPristine();
        byte[] before = File.ReadAllBytes(path);
        var needsBefore = ElfVersionNeedPatcher.ReadVersionNeeds(before, path);

        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionNeedPatcher.MarkWeak(path, Missing));
        byte[] after = File.ReadAllBytes(path);
        var needsAfter = ElfVersionNeedPatcher.ReadVersionNeeds(after, path);

        Assert.Equal(before.Length, after.Length);
        Assert.Equal(1, before.Zip(after).Count(p => p.First != p.Second));
        Assert.Equal(needsBefore.Select(n => (n.File, n.Version, n.Version == Missing ? (ushort)(n.Flags | 2) : n.Flags)),
                     needsAfter.Select(n => (n.File, n.Version, n.Flags)));
        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionNeedPatcher.MarkWeak(path, Missing));
        Assert.Equal(ElfPatchOutcome.NotNeeded, ElfVersionNeedPatcher.MarkWeak(path, "GLIBCXX_9.9.99"));
    }

    [Fact]
    public void Patching_a_hard_link_leaves_the_other_name_untouched()
    {
        string original = CopyOfPristine();
        string link = Path.Combine(_dir, "linked.so");
        using (var ln = Process.Start("ln", [original, link])) ln.WaitForExit();
        Assert.True(File.Exists(link));

        ElfVersionNeedPatcher.MarkWeak(link, Missing);

        Assert.False(Need(original, Missing).IsWeak);
        Assert.True(Need(link, Missing).IsWeak);
    }

    [Fact]
    public void This_test_assemblys_own_output_copy_was_patched_by_the_build_where_the_system_lacks_the_version()
    {
        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        bool systemHasIt = ElfVersionNeedPatcher.DefinesVersion(SystemLibStdCxx(), Missing);
        Assert.Equal(!systemHasIt, Need(output, Missing).IsWeak);
    }

    [Fact]
    public void Debian_12_libstdcxx_lacks_3_4_32_but_has_3_4_30()
    {
        Assert.True(ElfVersionNeedPatcher.DefinesVersion(SystemLibStdCxx(), "GLIBCXX_3.4.30"));
        Assert.False(ElfVersionNeedPatcher.DefinesVersion(SystemLibStdCxx(), "GLIBCXX_3.4.99"));
    }

    [Fact]
    public void The_task_does_nothing_where_the_system_libstdcxx_defines_the_version()
    {
        string library = CopyOfPristine();
        string newerLibStdCxx = Path.Combine(_dir, "libstdc++.so.6");
        File.WriteAllBytes(newerLibStdCxx, [0, .. "GLIBCXX_3.4.32"u8, 0]);
        var task = new MarkElfVersionNeedsWeak
        {
            BuildEngine = new RecordingBuildEngine(),
            Libraries = [new TaskItem(library)],
            Versions = [Missing],
            SystemLibStdCxxCandidates = [newerLibStdCxx],
        };

        Assert.True(task.Execute());
        Assert.Equal(File.ReadAllBytes(PristineLibTorchSharp()), File.ReadAllBytes(library));
    }

    [Fact]
    public void The_task_patches_where_the_system_libstdcxx_lacks_the_version()
    {
        string library = CopyOfPristine();
        var task = new MarkElfVersionNeedsWeak
        {
            BuildEngine = new RecordingBuildEngine(),
            Libraries = [new TaskItem(library), new TaskItem(Path.Combine(_dir, "absent.so"))],
            Versions = [Missing],
            SystemLibStdCxxCandidates = [SystemLibStdCxx()],
        };

        Assert.True(task.Execute());
        Assert.True(Need(library, Missing).IsWeak);
    }

    [Fact]
    public void A_file_that_is_not_elf_is_refused_with_its_name()
    {
        string path = Path.Combine(_dir, "not-elf.so");
        File.WriteAllText(path, "hello");
        var error = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.MarkWeak(path, Missing));
        Assert.Contains(path, error.Message);
    }

    private static string SystemLibStdCxx() =>
        new MarkElfVersionNeedsWeak().SystemLibStdCxxCandidates.First(File.Exists);

    /// <summary>Collects what the task logs; MSBuild's engine is not available inside a test host.</summary>
    private sealed class RecordingBuildEngine : IBuildEngine
    {
        public List<string> Messages { get; } = [];
        public bool ContinueOnError => false;
        public int LineNumberOfTaskNode => 0;
        public int ColumnNumberOfTaskNode => 0;
        public string ProjectFileOfTaskNode => "test";
        public bool BuildProjectFile(string projectFileName, string[] targetNames, System.Collections.IDictionary globalProperties, System.Collections.IDictionary targetOutputs) => false;
        public void LogCustomEvent(CustomBuildEventArgs e) => Messages.Add(e.Message ?? "");
        public void LogErrorEvent(BuildErrorEventArgs e) => Messages.Add("error: " + e.Message);
        public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e.Message ?? "");
        public void LogWarningEvent(BuildWarningEventArgs e) => Messages.Add("warning: " + e.Message);
    }
}
