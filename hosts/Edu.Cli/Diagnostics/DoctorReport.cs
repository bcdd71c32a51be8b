using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Dicom;
using Edu.Models.Runtime;
using Edu.Plugins;

namespace Edu.Cli.Diagnostics;

/// <summary>Everything <c>edu doctor</c> reports; serialised as-is for <c>--json</c>.</summary>
public sealed record DoctorReport(
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("dotnet")] DotnetInfo Dotnet,
    [property: JsonPropertyName("torch")] TorchInfo Torch,
    [property: JsonPropertyName("devices")] DevicesInfo Devices,
    [property: JsonPropertyName("cpu")] CpuInfo Cpu,
    [property: JsonPropertyName("numerics")] NumericsVerdict? Numerics,
    [property: JsonPropertyName("gdcm")] GdcmInfo Gdcm,
    [property: JsonPropertyName("onnxRuntime")] OnnxRuntimeInfo OnnxRuntime,
    [property: JsonPropertyName("pluginFolders")] IReadOnlyList<PluginFolderInfo> PluginFolders,
    [property: JsonPropertyName("problems")] IReadOnlyList<Problem> Problems)
{
    /// <summary>Probes the runtime. Loads LibTorch and GDCM; never throws for a missing part.</summary>
    public static DoctorReport Collect(bool thoroughNumerics = false)
    {
        var problems = new List<Problem>();

        var dotnet = new DotnetInfo(RuntimeInformation.FrameworkDescription, RuntimeInformation.RuntimeIdentifier,
            RuntimeInformation.OSDescription);

        var torchInfo = TorchRuntime.Describe();
        string backend = typeof(DoctorReport).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "TorchBackend")?.Value ?? "unknown";
        var torch = new TorchInfo(torchInfo.TorchSharpVersion, torchInfo.LibTorchVersion, backend, torchInfo.Loaded, torchInfo.Error);
        if (!torchInfo.Loaded)
            problems.Add(new Problem("LibTorch", torchInfo.Error ?? "does not load",
                "rebuild with ./edu (the build patches libLibTorchSharp.so for Debian 12); if it persists, run with LD_DEBUG=libs to see which library is missing"));

        var cudaNames = torchInfo.CudaAvailable ? CudaDeviceNames(torchInfo.CudaDeviceCount) : [];
        var devices = new DevicesInfo(Environment.ProcessorCount, torchInfo.CpuThreads,
            new CudaInfo(torchInfo.CudaAvailable, torchInfo.CudaDeviceCount, cudaNames));

        NumericsVerdict? numerics = null;
        if (torchInfo.Loaded)
        {
            try
            {
                numerics = CpuNumerics.Recheck(thoroughNumerics);
            }
            catch (NumericsException e)
            {
                problems.Add(new Problem("numerics", e.Message, "set ONEDNN_MAX_CPU_ISA=AVX2 in the environment and run `edu doctor` again; report the CPU model"));
            }
        }

        GdcmInfo gdcm;
        try
        {
            gdcm = new GdcmInfo(GdcmRuntime.EnsureLoaded(), true, GdcmRuntime.Directory, null);
        }
        catch (MissingDependencyException e)
        {
            gdcm = new GdcmInfo(null, false, GdcmRuntime.Directory, e.InnerException?.Message ?? e.Message);
            problems.Add(new Problem("GDCM", $"GDCM's C# binding does not load from {GdcmRuntime.Directory}", GdcmRuntime.InstallCommand));
        }

        // the optional inference backend (--backend onnxruntime): reported, not a problem when missing
        OnnxRuntimeInfo onnxRuntime;
        try { onnxRuntime = new OnnxRuntimeInfo(Edu.Inference.OnnxRuntimeNet.RuntimeVersion, true, null); }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            onnxRuntime = new OnnxRuntimeInfo(null, false, e.InnerException?.Message ?? e.Message);
        }

        var folders = PluginSearchPath.Folders().Select(f => new PluginFolderInfo(f, Directory.Exists(f))).ToList();
        return new DoctorReport(problems.Count == 0, dotnet, torch, devices, CpuInfo.Current, numerics, gdcm, onnxRuntime, folders, problems);
    }

    // TorchSharp exposes no device name; nvidia-smi does where a CUDA driver is installed.
    private static IReadOnlyList<string> CudaDeviceNames(int count)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=name --format=csv,noheader")
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null) return [];
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit(5000);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(count).ToList();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return [.. Enumerable.Range(0, count).Select(i => $"cuda:{i}")];
        }
    }
}

/// <summary>The .NET runtime.</summary>
public sealed record DotnetInfo(
    [property: JsonPropertyName("runtime")] string Runtime,
    [property: JsonPropertyName("rid")] string Rid,
    [property: JsonPropertyName("os")] string Os);

/// <summary>TorchSharp and its LibTorch.</summary>
public sealed record TorchInfo(
    [property: JsonPropertyName("torchSharp")] string TorchSharp,
    [property: JsonPropertyName("libTorch")] string? LibTorch,
    [property: JsonPropertyName("backend")] string Backend,
    [property: JsonPropertyName("loaded")] bool Loaded,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>Compute devices.</summary>
public sealed record DevicesInfo(
    [property: JsonPropertyName("cpuCores")] int CpuCores,
    [property: JsonPropertyName("torchThreads")] int TorchThreads,
    [property: JsonPropertyName("cuda")] CudaInfo Cuda);

/// <summary>CUDA devices LibTorch sees.</summary>
public sealed record CudaInfo(
    [property: JsonPropertyName("available")] bool Available,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("names")] IReadOnlyList<string> Names);

/// <summary>GDCM's C# binding.</summary>
public sealed record GdcmInfo(
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("loaded")] bool Loaded,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>ONNX Runtime, the optional inference backend.</summary>
public sealed record OnnxRuntimeInfo(
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("loaded")] bool Loaded,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>A folder searched for plugins.</summary>
public sealed record PluginFolderInfo(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("exists")] bool Exists);

/// <summary>Something required that does not work, and how to fix it.</summary>
public sealed record Problem(
    [property: JsonPropertyName("component")] string Component,
    [property: JsonPropertyName("problem")] string What,
    [property: JsonPropertyName("fix")] string Fix);
