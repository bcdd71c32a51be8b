using Edu.Abstractions.Errors;
using Grpc.Core;

namespace Edu.Cli.Remote;

/// <summary>Turns a worker's gRPC status into the CLI's errors: the request's fault → exit 2, the work's → exit 1.</summary>
public static class RemoteErrors
{
    /// <summary>Runs <paramref name="call"/>, translating <see cref="RpcException"/>.</summary>
    public static async Task<T> Call<T>(string server, Func<Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw Translate(server, e);
        }
    }

    /// <summary>The exception the CLI reports for <paramref name="e"/>.</summary>
    public static EduException Translate(string server, RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string detail = string.IsNullOrEmpty(e.Status.Detail) ? e.StatusCode.ToString() : e.Status.Detail;
        string? retry = e.Trailers.GetValue(Edu.Client.EduChannel.RetryAfterTrailer);
        return e.StatusCode switch
        {
            StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.Unauthenticated
                or StatusCode.PermissionDenied or StatusCode.OutOfRange =>
                new InvalidInputException(server, $"{Name(e.StatusCode)}: {detail}"),
            StatusCode.ResourceExhausted when retry is not null =>
                new RemoteCallException($"{server}: the worker is busy ({detail}); retry in {retry} ms"),
            StatusCode.ResourceExhausted => new InvalidInputException(server, $"{Name(e.StatusCode)}: {detail}"),
            StatusCode.Unavailable => new RemoteCallException($"{server}: the worker cannot be reached ({detail})"),
            StatusCode.DeadlineExceeded => new RemoteCallException($"{server}: no answer within the deadline (--timeout); the worker stopped the work"),
            _ => new RemoteCallException($"{server}: {Name(e.StatusCode)}: {detail}"),
        };
    }

    private static string Name(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument => "invalid argument",
        StatusCode.NotFound => "not found",
        StatusCode.AlreadyExists => "already exists",
        StatusCode.Unauthenticated => "unauthenticated (pass --api-key or set EDU_API_KEY)",
        StatusCode.ResourceExhausted => "resource exhausted",
        StatusCode.FailedPrecondition => "failed precondition",
        StatusCode.Unimplemented => "unimplemented",
        _ => code.ToString(),
    };
}
