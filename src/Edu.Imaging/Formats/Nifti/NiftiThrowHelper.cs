using Edu.Abstractions.Errors;

namespace Edu.Imaging.Formats.Nifti;

/// <summary>The NIfTI reader's and writer's exceptions, one place for their wording.</summary>
internal static class NiftiThrowHelper
{
    public static InvalidInputException Invalid(string path, string problem, Exception? inner = null) =>
        new(path, $"not a valid NIfTI file: {problem}", inner);

    public static InvalidInputException Unsupported(string path, string problem) =>
        new(path, $"unsupported NIfTI file: {problem}");
}
