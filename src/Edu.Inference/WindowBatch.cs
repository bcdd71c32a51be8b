namespace Edu.Inference;

/// <summary>
/// How many sliding windows go through the net in one forward pass when <see cref="PredictorOptions.BatchSize"/> is 0:
/// as many as fit <see cref="DefaultBudgetBytes"/> by an estimate of a window's activations, at most
/// <see cref="MaxWindows"/>. One window per pass leaves the CPU waiting on per-call overhead (and, with idle OpenMP
/// threads sleeping, on waking them for every layer); past about 128 MiB of activations a pass gets slower per window,
/// as they no longer stay in the caches. Measured with <c>edu bench infer</c> on a 2-core AMD EPYC (Zen 4), ms per window
/// for batches of 1 / 8 / 32: unet base 8 at 64² 2.67 / 1.35 / 0.77; base 32 at 128² 54.7 / 30.5 / 37.7; base 32 at
/// 256² 138 / 171 / 207 (docs/benchmarks.md, "Windows per pass").
/// </summary>
public static class WindowBatch
{
    /// <summary>The most windows per pass.</summary>
    public const int MaxWindows = 32;

    /// <summary>
    /// Estimated bytes of activations alive per window voxel and base channel in an eval-mode U-Net forward pass (float32,
    /// every level and the skips it keeps, with the allocator's slack): measured 14 for unet base 8 at 64×64, rounded up.
    /// </summary>
    public const int BytesPerVoxelAndChannel = 64;

    /// <summary>The memory the windows of one pass may use: 128 MiB, or a sixteenth of the memory available to the process when less.</summary>
    public static long DefaultBudgetBytes => Math.Min(128L << 20, Math.Max(32L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 16));

    /// <summary>Windows per pass for windows of <paramref name="patch"/> voxels (any order) through a net of <paramref name="baseChannels"/>.</summary>
    public static int Choose(IReadOnlyList<int> patch, int baseChannels, long? budgetBytes = null)
    {
        ArgumentNullException.ThrowIfNull(patch);
        long voxels = 1;
        foreach (int p in patch) voxels *= Math.Max(1, p);
        long perWindow = voxels * Math.Max(1, baseChannels) * BytesPerVoxelAndChannel;
        long budget = budgetBytes ?? DefaultBudgetBytes;
        return (int)Math.Clamp(budget / Math.Max(1, perWindow), 1, MaxWindows);
    }
}
