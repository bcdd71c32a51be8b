using Edu.Abstractions.Errors;

namespace Edu.Imaging.Formats.Tiff;

/// <summary>The TIFF reader's and writer's exceptions, one place for their wording.</summary>
internal static class TiffThrowHelper
{
    public static InvalidInputException Invalid(string path, string problem, Exception? inner = null) =>
        new(path, $"not a valid TIFF file: {problem}", inner);

    public static InvalidInputException Unsupported(string path, string problem) =>
        new(path, $"unsupported TIFF file: {problem}");
}
