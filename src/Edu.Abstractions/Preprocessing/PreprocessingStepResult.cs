using Edu.Abstractions.Imaging;

namespace Edu.Abstractions.Preprocessing;

/// <summary>What <see cref="IPreprocessingStep.Apply"/> returns: the new image and how to undo it.</summary>
/// <param name="Image">The transformed image (a new volume; the input is never changed).</param>
/// <param name="Applied">The record <see cref="IPreprocessingStep.InvertLabels"/> needs.</param>
public sealed record PreprocessingStepResult(ImageVolume Image, AppliedStep Applied);
