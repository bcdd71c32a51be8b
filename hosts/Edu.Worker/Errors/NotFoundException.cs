using Edu.Abstractions.Errors;

namespace Edu.Worker.Errors;

/// <summary>Something a request names does not exist on this worker (a model, a version, a job). gRPC NotFound.</summary>
public sealed class NotFoundException : EduException
{
    /// <summary>Creates the exception; <paramref name="what"/> is e.g. "model 'lungs' version '2'".</summary>
    public NotFoundException(string what, string? hint = null)
        : base(hint is null ? $"{what} does not exist on this worker" : $"{what} does not exist on this worker; {hint}") { }
}
