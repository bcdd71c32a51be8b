using Edu.Abstractions.Errors;

namespace Edu.Worker.Errors;

/// <summary>
/// An upload went <c>Worker:UploadIdleSeconds</c> without a message (a chunk or the end of the request stream): the call
/// ends and frees its place in the queue. gRPC DeadlineExceeded.
/// </summary>
public sealed class UploadStalledException : EduException
{
    /// <summary>Creates the exception.</summary>
    public UploadStalledException(string message) : base(message) { }
}
