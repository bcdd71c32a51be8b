using System.Runtime.InteropServices;

using Edu.Models.Runtime;

namespace Edu.Worker;

/// <summary>
/// Process settings for a server that runs many short inferences between other work (the gRPC worker), applied
/// before LibTorch loads. Measured with <c>edu bench grpc</c> on 2 CPU cores: without them a request's inference
/// ran 15–30 % slower in the worker than the same call in a loop, because (1) LibTorch's OpenMP threads keep
/// spinning after each parallel region and take the cores from the threads that receive, decode and send, and
/// (2) glibc returns the freed activations to the kernel after every request, so the next one page-faults them
/// back in. A setting the user already made in the environment is left alone.
/// </summary>
public static partial class ServingTuning
{
    private const int MallocTrimThreshold = -1, MallocTopPad = -2, MallocMmapThreshold = -3;
    private const int MaxMmapThreshold = 32 << 20; // glibc refuses more than half its 64 MiB arena heap

    /// <summary>Applies the settings; returns one line per setting made (empty off Linux or when all were preset).</summary>
    public static IReadOnlyList<string> Apply()
    {
        var applied = new List<string>();
        if (!OperatingSystem.IsLinux()) return applied;
        try
        {
            ApplyOnLinux(applied);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            applied.Add($"not applied: {e.Message}"); // a libc without these calls (musl) must not stop the worker
        }
        return applied;
    }

    private static void ApplyOnLinux(List<string> applied)
    {
        // OpenMP reads its environment once, when LibTorch loads it; .NET's own environment block is not what native getenv sees.
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
        {
            if (TorchRuntime.IsLoaded)
                applied.Add("OMP_WAIT_POLICY not set: LibTorch was already loaded");
            else
            {
                NativeEnvironment.Set("OMP_WAIT_POLICY", "PASSIVE");
                applied.Add("OMP_WAIT_POLICY=PASSIVE (idle OpenMP threads sleep instead of spinning)");
            }
        }
        if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null && Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is null
            && MallOpt(MallocMmapThreshold, MaxMmapThreshold) == 1 && MallOpt(MallocTrimThreshold, 512 << 20) == 1 && MallOpt(MallocTopPad, 64 << 20) == 1)
            applied.Add("malloc: blocks up to 32 MiB from the heap, freed memory kept (trim threshold 512 MiB per arena) for the next request");
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);
}
