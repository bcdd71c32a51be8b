using Edu.Abstractions.Imaging;

namespace Edu.Abstractions.Synthetic;

/// <summary>One generated case: the image and its exact ground truth.</summary>
/// <param name="Image">The image, in the modality's channels and units (CT in HU).</param>
/// <param name="Labels">One channel of integer label values, same geometry as <paramref name="Image"/>.</param>
public sealed record SyntheticCase(ImageVolume Image, ImageVolume Labels);
