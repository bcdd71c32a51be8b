using Edu.Abstractions.Errors;

namespace Edu.Worker.Errors;

/// <summary>This build of the worker cannot do what was asked (a part it needs is not built in). gRPC Unimplemented.</summary>
public sealed class UnavailableFeatureException : EduException
{
    /// <summary>Creates the exception.</summary>
    public UnavailableFeatureException(string message) : base(message) { }
}
