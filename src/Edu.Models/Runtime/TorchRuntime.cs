using System.Reflection;
using Edu.Abstractions.Errors;
using TorchSharp;

namespace Edu.Models.Runtime;

/// <summary>What the process's TorchSharp and LibTorch are, and whether the native side loads.</summary>
public sealed record TorchRuntimeInfo(
    string TorchSharpVersion,
    string? LibTorchVersion,
    bool Loaded,
    string? Error,
    int CpuThreads,
    bool CudaAvailable,
    int CudaDeviceCount);

/// <summary>Loads LibTorch once and reports on it.</summary>
public static class TorchRuntime
{
    private static readonly Lazy<TorchRuntimeInfo> Info = new(Probe);

    /// <summary>TorchSharp's managed assembly version, e.g. "0.107.0".</summary>
    public static string TorchSharpVersion { get; } =
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>Whether this process has already loaded LibTorch through <see cref="Describe"/>.</summary>
    public static bool IsLoaded => Info.IsValueCreated;

    /// <summary>Loads the native library (first call only) and describes the runtime.</summary>
    public static TorchRuntimeInfo Describe() => Info.Value;

    /// <summary>
    /// Throws <see cref="MissingDependencyException"/> with the cause when LibTorch does not load; otherwise runs the numeric
    /// self-check once per process (<see cref="CpuNumerics.Ensure"/>, cached per CPU), so every process that runs a net
    /// computes with a configuration verified right on its CPU.
    /// </summary>
    public static void EnsureLoaded()
    {
        var info = Describe();
        if (!info.Loaded)
            throw new MissingDependencyException("LibTorch (TorchSharp native library)", info.Error ?? "does not load",
                "rebuild with ./edu (the build patches libLibTorchSharp.so for Debian 12); run `./edu doctor` for details");
        CpuNumerics.Ensure();
    }

    /// <summary>Whether LibTorch loaded and sees a CUDA device.</summary>
    public static bool CudaAvailable() => Describe() is { Loaded: true, CudaAvailable: true };

    private static TorchRuntimeInfo Probe()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            using var probe = torch.ones(2, 2);
            bool cuda = torch.cuda.is_available();
            return new TorchRuntimeInfo(TorchSharpVersion, LibTorchRelease(torch.__version__), probe.sum().item<float>() == 4f, null,
                torch.get_num_threads(), cuda, cuda ? torch.cuda.device_count() : 0);
        }
        catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException
                                  or EntryPointNotFoundException or BadImageFormatException or InvalidOperationException)
        {
            return new TorchRuntimeInfo(TorchSharpVersion, null, false, Innermost(e).Message, Environment.ProcessorCount, false, 0);
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    // TorchSharp reports LibTorch's version as a four-part .NET version ("2.10.0.0"); LibTorch's own is "2.10.0".
    private static string LibTorchRelease(string version) =>
        version.Split('.') is { Length: 4 } parts && parts[3] == "0" ? string.Join('.', parts[..3]) : version;
}
