using Edu.Abstractions.Errors;

namespace Edu.Cli.Training;

/// <summary>A model's training child process of <c>edu bench converge</c> failed.</summary>
public sealed class ConvergenceFailedException : EduException
{
    /// <summary>Creates the exception with the child's error.</summary>
    public ConvergenceFailedException(string message) : base(message) { }
}
