using Edu.Abstractions.Errors;

namespace Edu.Worker.Errors;

/// <summary>
/// The client reset its request stream or closed the connection while the worker was reading it (Kestrel reports that as an
/// <see cref="IOException"/>, sometimes before the call's cancellation token is set). The call ends CANCELLED and gives
/// back its place; nothing is wrong with the worker.
/// </summary>
public sealed class ClientGoneException : EduException
{
    /// <summary>Creates the exception around what the transport reported.</summary>
    public ClientGoneException(Exception inner) : base("the client went away during the upload; the call was stopped", inner) { }
}
