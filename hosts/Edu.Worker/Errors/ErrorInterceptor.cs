using System.Globalization;
using Edu.Abstractions.Errors;
using Edu.Client;
using Edu.Worker.Metrics;
using Edu.Abstractions.Logging;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Edu.Worker.Errors;

/// <summary>
/// Maps exceptions to gRPC status codes, in one place: <see cref="InvalidInputException"/> → InvalidArgument
/// (with the reason), <see cref="NotFoundException"/> → NotFound, <see cref="MissingDependencyException"/> →
/// FailedPrecondition, <see cref="WorkerBusyException"/> → ResourceExhausted (+ trailer <c>retry-after-ms</c>),
/// <see cref="ConflictException"/> → AlreadyExists/FailedPrecondition, <see cref="UnavailableFeatureException"/> →
/// Unimplemented, <see cref="UploadStalledException"/> → DeadlineExceeded, <see cref="ClientGoneException"/> → Cancelled, cancellation (and whatever a call fails with
/// once its client went away or its deadline passed, such as a request stream aborted mid-upload) → Cancelled or
/// DeadlineExceeded; anything else → Internal with an error id and no stack trace (the full exception goes to the log).
/// A live worker never answers Unavailable (docs/worker.md). Also counts requests and their latency. Logged reasons carry no
/// patient identity: UIDs hashed, the input (an upload's file name) only as a hash (<see cref="LogRedaction"/>).
/// </summary>
public sealed class ErrorInterceptor : Interceptor
{
    private readonly ILogger<ErrorInterceptor> _logger;
    private readonly WorkerMetrics _metrics;

    /// <summary>Creates the interceptor.</summary>
    public ErrorInterceptor(ILogger<ErrorInterceptor> logger, WorkerMetrics metrics)
    {
        _logger = logger;
        _metrics = metrics;
    }

    /// <inheritdoc />
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            _metrics.Request(context.Method, StatusCode.OK, start);
            return response;
        }
        catch (Exception e)
        {
            throw Map(e, context, start);
        }
    }

    /// <inheritdoc />
    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var response = await continuation(requestStream, context).ConfigureAwait(false);
            _metrics.Request(context.Method, StatusCode.OK, start);
            return response;
        }
        catch (Exception e)
        {
            throw Map(e, context, start);
        }
    }

    /// <inheritdoc />
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            _metrics.Request(context.Method, StatusCode.OK, start);
        }
        catch (Exception e)
        {
            throw Map(e, context, start);
        }
    }

    /// <inheritdoc />
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            _metrics.Request(context.Method, StatusCode.OK, start);
        }
        catch (Exception e)
        {
            throw Map(e, context, start);
        }
    }

    private RpcException Map(Exception exception, ServerCallContext context, long start)
    {
        var rpc = ToRpc(exception, context);
        _metrics.Request(context.Method, rpc.StatusCode, start);
        return rpc;
    }

    private RpcException ToRpc(Exception exception, ServerCallContext context)
    {
        switch (exception)
        {
            case RpcException rpc:
                return rpc;
            case InvalidInputException e:
                _logger.LogInformation("{Method}: invalid argument: {Reason}", context.Method,
                    LogRedaction.Error(e.Input, e is UploadInputException upload ? upload.LoggedProblem : e.Problem));
                return new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
            case NotFoundException e:
                _logger.LogInformation("{Method}: not found: {Reason}", context.Method, LogRedaction.Uids(e.Message));
                return new RpcException(new Status(StatusCode.NotFound, e.Message));
            case MissingDependencyException e:
                _logger.LogWarning("{Method}: missing dependency: {Reason}", context.Method, LogRedaction.Uids(e.Message));
                return new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
            case WorkerBusyException e:
                // under overload this happens hundreds of times a second: counted in edu_segmentations_rejected_total, logged at Debug
                _logger.LogDebug("{Method}: resource exhausted ({Why}): {Reason}", context.Method, e.Reason, LogRedaction.Uids(e.Message));
                var trailers = new Metadata();
                if (e.RetryAfterMs is int ms)
                    trailers.Add(EduChannel.RetryAfterTrailer, ms.ToString(CultureInfo.InvariantCulture));
                return new RpcException(new Status(StatusCode.ResourceExhausted, e.Message), trailers);
            case ConflictException e:
                return new RpcException(new Status(e.AlreadyExists ? StatusCode.AlreadyExists : StatusCode.FailedPrecondition, e.Message));
            case UnavailableFeatureException e:
                return new RpcException(new Status(StatusCode.Unimplemented, e.Message));
            case ClientGoneException e:
                _logger.LogDebug("{Method}: {Reason} ({Transport})", context.Method, e.Message, e.InnerException?.Message);
                return new RpcException(new Status(StatusCode.Cancelled, e.Message));
            case UploadStalledException e:
                _logger.LogInformation("{Method}: upload stalled: {Reason}", context.Method, e.Message);
                return new RpcException(new Status(StatusCode.DeadlineExceeded, e.Message));
            case EduException e:
                _logger.LogWarning("{Method}: failed: {Reason}", context.Method, LogRedaction.Uids(e.Message));
                return new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
            case OperationCanceledException when context.Deadline <= DateTime.UtcNow:
                return new RpcException(new Status(StatusCode.DeadlineExceeded, "the call's deadline passed; the work was stopped"));
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled; the work was stopped"));
            // the client reset the stream or closed the connection mid-call: reading or writing fails with whatever the transport says
            case Exception when context.CancellationToken.IsCancellationRequested && context.Deadline <= DateTime.UtcNow:
                return new RpcException(new Status(StatusCode.DeadlineExceeded, "the call's deadline passed; the work was stopped"));
            case Exception when context.CancellationToken.IsCancellationRequested:
                _logger.LogDebug(exception, "{Method}: the client went away ({Type})", context.Method, exception.GetType().Name);
                return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled by the client; the work was stopped"));
            default:
                string id = Guid.NewGuid().ToString("N")[..12];
                _logger.LogError(exception, "{Method}: internal error {ErrorId}", context.Method, id);
                return new RpcException(new Status(StatusCode.Internal, $"internal error {id} ({exception.GetType().Name}); see the worker log"));
        }
    }
}
