using Edu.Abstractions.Imaging;

namespace Edu.Abstractions.Datasets;

/// <summary>What the host lends a converter: the readers and writers it knows (plugins reference no formats).</summary>
/// <param name="Readers">Readers in the host's order of preference.</param>
/// <param name="Writers">Writers in the host's order of preference.</param>
public sealed record DatasetConversionContext(IReadOnlyList<IImageReader> Readers, IReadOnlyList<IImageWriter> Writers);
