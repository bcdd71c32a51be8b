namespace Edu.Abstractions.Errors;

/// <summary>
/// Root of every exception the framework throws on purpose. Hosts map the subtypes to exit codes
/// (CLI) and status codes (gRPC); anything else is a defect.
/// </summary>
public abstract class EduException : Exception
{
    /// <summary>Creates an exception with a message a user can act on.</summary>
    protected EduException(string message, Exception? inner = null) : base(message, inner) { }
}
