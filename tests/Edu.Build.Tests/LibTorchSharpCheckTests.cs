using System.Diagnostics;
using Edu.Build;

namespace Edu.Build.Tests;

/// <summary>
/// build/libtorchsharp-check.py, the API-drift check of TorchSharp's native glue against a torch
/// lib folder (docs: /work/shared/GPU.md, "A GPU machine with PyTorch but no .NET").
/// </summary>
public sealed class LibTorchSharpCheckTests
{
    private const string Missing = "GLIBCXX_3.4.32";
    private const string DebianPython = "/usr/bin/python3";

    // Where the build puts the glue and the LibTorch it loads, as the CLI and worker have them.
    private static readonly string OutputNative = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");

    [Fact]
    public void The_build_outputs_glue_resolves_every_symbol_against_the_libtorch_2_10_beside_it()
    {
        var result = Check(Path.Combine(OutputNative, "libLibTorchSharp.so"), OutputNative);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("unresolved: 0,", result.Output);
        Assert.Contains("C++ ABI: torch new (_GLIBCXX_USE_CXX11_ABI=1), library new (_GLIBCXX_USE_CXX11_ABI=1)", result.Output);
        Assert.Contains("CUDA libraries in the folder: absent", result.Output);
        Assert.EndsWith("result: OK", result.Output.TrimEnd());
    }

    [Fact]
    public void The_glue_as_nuget_ships_it_fails_where_libstdcxx_lacks_glibcxx_3_4_32_and_passes_where_it_has_it()
    {
        var result = Check(PristineLibTorchSharp(), OutputNative);

        bool systemHasIt = ElfVersionNeedPatcher.DefinesVersion(SystemLibStdCxx(), Missing);
        Assert.True(result.ExitCode == (systemHasIt ? 0 : 1), result.Output);
        if (!systemHasIt)
        {
            Assert.Contains("unresolved: 1,", result.Output);
            Assert.Contains("    std::ios_base_library_init()@GLIBCXX_3.4.32", result.Output);
        }
    }

    [Fact]
    public void The_weak_glibcxx_need_the_build_leaves_is_reported_as_never_bound()
    {
        var result = Check(Path.Combine(OutputNative, "libLibTorchSharp.so"), OutputNative);
        if (ElfVersionNeedPatcher.DefinesVersion(SystemLibStdCxx(), Missing))
            Assert.Contains("unresolved behind a WEAK version need: 0", result.Output);
        else
            Assert.Contains("std::ios_base_library_init()@GLIBCXX_3.4.32 (no relocation uses it: never bound)", result.Output);
    }

    [Fact]
    public void Debians_torch_1_13_lacks_hundreds_of_the_symbols_the_0_107_glue_needs()
    {
        // python3-torch (build/system-deps.sh test) lays torch/lib out as a pip install does: a
        // real torch of another version, the drift this check exists to catch.
        const string debianTorch = "/usr/lib/python3/dist-packages/torch/lib";
        string list = Path.Combine(Directory.CreateTempSubdirectory("edu-symcheck-").FullName, "unresolved.txt");

        var result = Check(Path.Combine(OutputNative, "libLibTorchSharp.so"), debianTorch, "--list", list);

        Assert.True(result.ExitCode == 1, result.Output);
        Assert.EndsWith("result: FAILED", result.Output.TrimEnd());
        string[] mangled = File.ReadAllLines(list).TakeWhile(l => l != "--- demangled").ToArray();
        string[] demangled = File.ReadAllLines(list).SkipWhile(l => l != "--- demangled").Skip(1).ToArray();
        Assert.True(mangled.Length > 100, $"only {mangled.Length} unresolved:\n{result.Output}");
        Assert.Equal(mangled.Length, demangled.Length);
        Assert.Contains(demangled, d => d.StartsWith("at::_ops::", StringComparison.Ordinal));
        Assert.Contains($"unresolved: {mangled.Length - 1}, unresolved behind a WEAK version need: 1", result.Output);
        Directory.Delete(Path.GetDirectoryName(list)!, recursive: true);
    }

    [Fact]
    public void It_needs_no_binutils_only_python3_as_on_a_pytorch_machine()
    {
        // A PATH with python3 alone: no nm, readelf, c++filt or ldconfig to be found by name. The
        // Debian python3 (python3-torch needs it), not a version manager's shell shim.
        string bin = Directory.CreateTempSubdirectory("edu-symcheck-bin-").FullName;
        try
        {
            File.CreateSymbolicLink(Path.Combine(bin, "python3"), DebianPython);
            var result = Check(Path.Combine(OutputNative, "libLibTorchSharp.so"), OutputNative, ("PATH", bin));

            Assert.True(result.ExitCode == 0, result.Output);
            Assert.Contains("unresolved: 0,", result.Output);
            Assert.Contains("libstdc++.so.6", result.Output);
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }

    [Fact]
    public void A_folder_without_torch_libraries_is_refused_with_exit_2_and_says_what_it_lacks()
    {
        string empty = Directory.CreateTempSubdirectory("edu-symcheck-").FullName;
        try
        {
            var result = Check(Path.Combine(OutputNative, "libLibTorchSharp.so"), empty);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains($"{empty} has no libtorch.so: not a torch lib folder", result.Output);

            var noLib = Check(Path.Combine(empty, "libLibTorchSharp.so"), OutputNative);
            Assert.Equal(2, noLib.ExitCode);
            Assert.Contains("no such library", noLib.Output);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    private sealed record Result(int ExitCode, string Output);

    private static Result Check(string library, string torchLib, params string[] more) =>
        Check(library, torchLib, null, more);

    private static Result Check(string library, string torchLib, (string Name, string Value)? environment, params string[] more)
    {
        // Debian's python3 by its path: .NET looks a bare name up in this process's PATH, not in
        // the child's, and a version manager's shim there would need more than python3.
        var start = new ProcessStartInfo(DebianPython)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (environment is { } variable) start.Environment[variable.Name] = variable.Value;
        start.ArgumentList.Add(Path.Combine(RepositoryRoot(), "build", "libtorchsharp-check.py"));
        foreach (string argument in (string[])["--lib", library, "--torch-lib", torchLib, .. more])
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("libtorchsharp-check.py ran over 3 minutes:\n" + stdout);
        }
        return new Result(process.ExitCode, stdout + stderr.Result);
    }

    private static string PristineLibTorchSharp()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    private static string SystemLibStdCxx() =>
        new MarkElfVersionNeedsWeak().SystemLibStdCxxCandidates.First(File.Exists);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EDU.Framework.sln"))) return dir.FullName;
        throw new InvalidOperationException("EDU.Framework.sln not found above " + AppContext.BaseDirectory);
    }
}
