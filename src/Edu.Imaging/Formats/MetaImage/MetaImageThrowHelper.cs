using Edu.Abstractions.Errors;

namespace Edu.Imaging.Formats.MetaImage;

/// <summary>The MetaImage reader's and writer's exceptions, one place for their wording.</summary>
internal static class MetaImageThrowHelper
{
    public static InvalidInputException Invalid(string path, string problem, Exception? inner = null) =>
        new(path, $"not a valid MetaImage file: {problem}", inner);

    public static InvalidInputException Unsupported(string path, string problem) =>
        new(path, $"unsupported MetaImage file: {problem}");
}
