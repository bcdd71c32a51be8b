using Edu.Abstractions.Errors;

namespace Edu.Cli.Remote;

/// <summary>A call to a worker failed for a reason that is not the request's fault (busy, unreachable, internal). Exit 1.</summary>
public sealed class RemoteCallException : EduException
{
    /// <summary>Creates the exception.</summary>
    public RemoteCallException(string message) : base(message) { }
}
