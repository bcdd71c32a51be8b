using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace Edu.Client;

/// <summary>
/// Opens a channel to an EDU worker: plain HTTP/2 for <c>http://</c> addresses, TLS for <c>https://</c>,
/// the API key (when given) sent as <c>x-api-key</c> on every call.
/// </summary>
public static class EduChannel
{
    /// <summary>Largest message the client accepts or sends (results come in chunks well below it).</summary>
    public const int MaxMessageBytes = 8 * 1024 * 1024;

    /// <summary>Creates the channel and a call invoker that adds the key.</summary>
    public static (GrpcChannel Channel, CallInvoker Invoker) Open(string address, string? apiKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"'{address}' is not an http:// or https:// address", nameof(address));
        var channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = MaxMessageBytes,
            MaxSendMessageSize = MaxMessageBytes,
        });
        CallInvoker invoker = channel.CreateCallInvoker();
        if (!string.IsNullOrEmpty(apiKey))
            invoker = invoker.Intercept(metadata =>
            {
                metadata.Add(ApiKeyHeader, apiKey);
                return metadata;
            });
        return (channel, invoker);
    }

    /// <summary>The metadata key carrying the API key (<c>authorization: Bearer KEY</c> is accepted too).</summary>
    public const string ApiKeyHeader = "x-api-key";

    /// <summary>The trailer a RESOURCE_EXHAUSTED status carries when the worker is busy: milliseconds to wait before retrying.</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    /// <summary>
    /// How long a busy worker asked the client to wait: the <see cref="RetryAfterTrailer"/> of a RESOURCE_EXHAUSTED status, or
    /// null when the status is another one or carries no hint (a size limit, where retrying the same request cannot help).
    /// </summary>
    public static TimeSpan? RetryAfter(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception.StatusCode != StatusCode.ResourceExhausted) return null;
        string? value = exception.Trailers.GetValue(RetryAfterTrailer);
        return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int ms)
            ? TimeSpan.FromMilliseconds(ms)
            : null;
    }
}
