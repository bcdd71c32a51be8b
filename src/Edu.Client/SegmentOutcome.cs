using Edu.V1;

namespace Edu.Client;

/// <summary>What a successful <see cref="SegmentClient.SegmentAsync"/> brought back.</summary>
/// <param name="Result">The result header: model, version, geometry, labels with voxels and ml, result file names.</param>
/// <param name="Status">The worker's final status (ok, message, its own elapsed seconds).</param>
/// <param name="Files">The result files received, in order, each written through the caller's sink.</param>
/// <param name="Attempts">Tries it took (1 when the worker took the first).</param>
/// <param name="BusyReplies">Busy answers before the one that was served.</param>
public sealed record SegmentOutcome(SegmentResult Result, SegmentStatus Status, IReadOnlyList<string> Files, int Attempts, int BusyReplies);
