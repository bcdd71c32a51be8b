namespace Edu.Abstractions.Synthetic;

/// <summary>
/// Generates cases that look like a modality, with exact label volumes. Deterministic: the same
/// seed and size give the same voxels, on every machine (no global random state).
/// </summary>
public interface ISyntheticGenerator
{
    /// <summary>The modality the cases belong to (<see cref="Modalities.ModalityDescriptor.Id"/>).</summary>
    string ModalityId { get; }

    /// <summary>The in-plane size used when the caller gives none (e.g. 256).</summary>
    int DefaultSize { get; }

    /// <summary>Generates one case.</summary>
    /// <param name="seed">Seed for the case; all randomness derives from it.</param>
    /// <param name="size">In-plane size in pixels (columns = rows); 3-D generators choose the slice count from it.</param>
    SyntheticCase Generate(int seed, int size);
}
