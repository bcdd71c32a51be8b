namespace Edu.Abstractions.Imaging;

/// <summary>What a reader learns from a file's header alone (see <see cref="IImageReader.Identify"/>).</summary>
/// <param name="Format">Format name, as <see cref="IImageReader.Name"/>.</param>
/// <param name="Geometry">Size and placement in LPS.</param>
/// <param name="Channels">Channels (samples per pixel, MR sequences, time points).</param>
/// <param name="PixelType">Scalar type in the file.</param>
public sealed record ImageHeader(string Format, ImageGeometry Geometry, int Channels, PixelType PixelType);
