namespace Edu.Training.Data;

/// <summary>One batch in managed memory: images [B][C][patch] and labels [B][patch] (label values as floats).</summary>
/// <param name="Step">Step index within the epoch, 0-based.</param>
/// <param name="Size">Samples in the batch.</param>
/// <param name="Channels">Image channels.</param>
/// <param name="Shape">Patch shape without batch and channel: [Y, X] for 2-D, [Z, Y, X] for 3-D.</param>
/// <param name="Images">Image voxels.</param>
/// <param name="Labels">Label voxels.</param>
public sealed record TrainingBatch(int Step, int Size, int Channels, long[] Shape, float[] Images, float[] Labels);
