using Edu.Abstractions.Imaging;

namespace Edu.Abstractions.Preprocessing;

/// <summary>
/// The implementation of a named preprocessing step. The standard steps (<c>clip</c>, <c>window</c>,
/// <c>zscore</c>, <c>percentile</c>, <c>resample</c>, <c>resize</c>, <c>rgb</c>, <c>grey</c>) live
/// in Edu.Imaging; plugins may add their own under new names.
/// </summary>
public interface IPreprocessingStep
{
    /// <summary>The name a <see cref="PreprocessingStepSpec"/> refers to.</summary>
    string Name { get; }

    /// <summary>One line for users: what the step does and its parameters.</summary>
    string Description { get; }

    /// <summary>Applies the step to a copy of <paramref name="image"/>; never changes the input.</summary>
    PreprocessingStepResult Apply(ImageVolume image, PreprocessingStepSpec spec);

    /// <summary>
    /// Undoes the step on a label volume (one channel of integer labels in the step's output
    /// geometry), returning labels in the step's input geometry. Intensity steps return the labels
    /// unchanged; geometric steps resample with nearest neighbour so labels stay integers.
    /// </summary>
    ImageVolume InvertLabels(ImageVolume labels, AppliedStep applied);
}
