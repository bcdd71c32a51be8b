namespace Edu.Abstractions.Errors;

/// <summary>
/// The user's input is wrong: a malformed file, an impossible option, an inconsistent series.
/// The message names the input and the problem. CLI exit code 2, gRPC InvalidArgument.
/// </summary>
public class InvalidInputException : EduException
{
    /// <summary>Creates the exception; <paramref name="input"/> is the file, folder or option at fault.</summary>
    public InvalidInputException(string input, string problem, Exception? inner = null)
        : base($"{input}: {problem}", inner)
    {
        Input = input;
        Problem = problem;
    }

    /// <summary>The file, folder or option at fault.</summary>
    public string Input { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}
