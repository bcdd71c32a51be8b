namespace Edu.Inference.Postprocessing;

/// <summary>Which neighbours join two voxels of the same label into one connected component.</summary>
public enum Connectivity
{
    /// <summary>Voxels sharing a face: 4 neighbours in 2-D, 6 in 3-D (scipy.ndimage.label's default, as nnU-Net uses).</summary>
    Face,

    /// <summary>Voxels sharing a face, an edge or a corner: 8 neighbours in 2-D, 26 in 3-D.</summary>
    Full,
}
