using Edu.Abstractions.Errors;

namespace Edu.Imaging.Formats.Png;

/// <summary>The PNG/JPEG/BMP readers' and writer's exceptions, one place for their wording.</summary>
internal static class PngThrowHelper
{
    public static InvalidInputException Invalid(string path, string format, string problem, Exception? inner = null) =>
        new(path, $"not a valid {format} file: {problem}", inner);
}
