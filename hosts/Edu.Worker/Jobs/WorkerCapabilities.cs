using Edu.V1;

namespace Edu.Worker.Jobs;

/// <summary>
/// What this worker offers a job (configuration <c>Worker:Capabilities</c>): its device kind and the device's memory.
/// A job whose <see cref="JobRequirements"/> ask for more is left in the queue for a worker that has it.
/// </summary>
/// <param name="DeviceKind"><c>cpu</c> or <c>cuda</c>.</param>
/// <param name="MemoryMb">The device's memory in MiB (GPU memory for cuda, RAM for cpu).</param>
public sealed record WorkerCapabilities(string DeviceKind, long MemoryMb)
{
    /// <summary>Any job (single-worker stores and tests).</summary>
    public static WorkerCapabilities Any { get; } = new("", long.MaxValue);

    /// <summary>Whether a job with <paramref name="requirements"/> may run here.</summary>
    public bool Satisfies(JobRequirements? requirements) =>
        requirements is null
        || ((requirements.DeviceKind.Length == 0 || DeviceKind.Length == 0 || string.Equals(requirements.DeviceKind, DeviceKind, StringComparison.OrdinalIgnoreCase))
            && requirements.MinMemoryMb <= MemoryMb);

    /// <summary>The capabilities of a worker on <paramref name="device"/>: configured values, else the device kind and, on the CPU, the machine's memory.</summary>
    public static WorkerCapabilities For(string device, string? configuredKind, long configuredMemoryMb)
    {
        string kind = !string.IsNullOrWhiteSpace(configuredKind) ? configuredKind.Trim().ToLowerInvariant()
            : device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) ? "cuda" : "cpu";
        long memory = configuredMemoryMb > 0 ? configuredMemoryMb
            : kind == "cpu" ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024)
            : 0; // a GPU's memory is not visible through TorchSharp 0.107: give Worker:Capabilities:MemoryMb
        return new WorkerCapabilities(kind, memory);
    }
}
