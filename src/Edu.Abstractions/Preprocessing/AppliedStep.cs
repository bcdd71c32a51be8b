using Edu.Abstractions.Imaging;

namespace Edu.Abstractions.Preprocessing;

/// <summary>
/// The record of one step having run: enough to undo it on a label volume. Kept with the
/// preprocessed image so that predictions go back to the source geometry.
/// </summary>
/// <param name="Spec">The step and parameters that ran.</param>
/// <param name="InputGeometry">The geometry of the step's input.</param>
/// <param name="InputChannels">The channel count of the step's input.</param>
/// <param name="State">Anything else the inverse needs (e.g. crop offsets), as text.</param>
public sealed record AppliedStep(PreprocessingStepSpec Spec, ImageGeometry InputGeometry, int InputChannels,
    IReadOnlyDictionary<string, string> State);
