using Edu.Abstractions.Errors;

namespace Edu.Worker.Errors;

/// <summary>
/// Bad uploaded input whose explanation names the client's own files (a series error names two slices): the client is
/// told in full, the log gets <see cref="LoggedProblem"/>, where those names are hashed, since an export may name files
/// after the patient. gRPC InvalidArgument.
/// </summary>
public sealed class UploadInputException : InvalidInputException
{
    /// <summary>Creates the exception.</summary>
    public UploadInputException(string input, string problem, string loggedProblem, Exception? inner = null)
        : base(input, problem, inner) => LoggedProblem = loggedProblem;

    /// <summary>The problem with the uploaded file names hashed.</summary>
    public string LoggedProblem { get; }
}
