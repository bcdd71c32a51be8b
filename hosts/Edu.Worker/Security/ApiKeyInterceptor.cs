using System.Security.Cryptography;
using System.Text;
using Edu.Client;
using Edu.Worker.Configuration;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Edu.Worker.Security;

/// <summary>
/// Requires the configured API key on every call except the health service (load balancers probe it
/// without credentials). The key comes as <c>x-api-key: KEY</c> or <c>authorization: Bearer KEY</c>;
/// compared in constant time. Without a configured key every call passes.
/// </summary>
public sealed class ApiKeyInterceptor : Interceptor
{
    private readonly byte[]? _keyHash;

    /// <summary>Creates the interceptor from the options.</summary>
    public ApiKeyInterceptor(IOptions<WorkerOptions> options)
    {
        string? key = options.Value.ApiKey;
        _keyHash = string.IsNullOrEmpty(key) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(key));
    }

    /// <summary>Whether the call may proceed.</summary>
    public bool IsAuthorised(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_keyHash is null || context.Method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal))
            return true;
        string? presented = context.RequestHeaders.GetValue(EduChannel.ApiKeyHeader);
        if (presented is null)
        {
            string? authorization = context.RequestHeaders.GetValue("authorization");
            if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                presented = authorization["Bearer ".Length..].Trim();
        }
        if (string.IsNullOrEmpty(presented)) return false;
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _keyHash);
    }

    private void Check(ServerCallContext context)
    {
        if (!IsAuthorised(context))
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"this worker requires an API key: send metadata '{EduChannel.ApiKeyHeader}: KEY' or 'authorization: Bearer KEY'"));
    }

    /// <inheritdoc />
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    /// <inheritdoc />
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    /// <inheritdoc />
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    /// <inheritdoc />
    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }
}
