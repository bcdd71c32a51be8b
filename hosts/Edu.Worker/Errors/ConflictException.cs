using Edu.Abstractions.Errors;

namespace Edu.Worker.Errors;

/// <summary>The request clashes with what exists (a dataset name taken, a finished job cancelled). gRPC AlreadyExists or FailedPrecondition.</summary>
public sealed class ConflictException : EduException
{
    /// <summary>Creates the exception.</summary>
    public ConflictException(string message, bool alreadyExists) : base(message) => AlreadyExists = alreadyExists;

    /// <summary>True: the named thing exists (AlreadyExists); false: the state forbids it (FailedPrecondition).</summary>
    public bool AlreadyExists { get; }
}
