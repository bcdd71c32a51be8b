using System.CommandLine;
using Edu.Abstractions.Errors;
using Edu.Client;
using Grpc.Net.Client;
using Grpc.Core;

namespace Edu.Cli.Remote;

/// <summary>The options every <c>edu remote</c> command takes: the worker, its key, the deadline.</summary>
public sealed class RemoteOptions
{
    /// <summary><c>--server URL</c>.</summary>
    public Option<string> Server { get; } = new("--server") { Description = "The worker's address, e.g. http://127.0.0.1:50051 (https:// for TLS).", Required = true };

    /// <summary><c>--api-key K</c>.</summary>
    public Option<string?> ApiKey { get; } = new("--api-key") { Description = "The worker's API key (default: $EDU_API_KEY)." };

    /// <summary><c>--timeout S</c>.</summary>
    public Option<double> Timeout { get; } = new("--timeout") { Description = "Deadline of the call in seconds.", DefaultValueFactory = _ => 600 };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Server);
        command.Options.Add(ApiKey);
        command.Options.Add(Timeout);
    }

    /// <summary>Opens the channel the parse result names.</summary>
    public Connection Connect(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        string server = parse.GetValue(Server)!;
        string? key = parse.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable("EDU_API_KEY");
        double timeout = parse.GetValue(Timeout);
        if (!(timeout > 0) || timeout > 7 * 24 * 3600)
            throw new InvalidInputException("--timeout", $"{timeout}: use a number of seconds between 0 and 604800");
        try
        {
            var (channel, invoker) = EduChannel.Open(server, key);
            return new Connection(server, channel, invoker, DateTime.UtcNow.AddSeconds(timeout));
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException("--server", e.Message);
        }
    }

    /// <summary>An open channel to a worker with the call deadline.</summary>
    public sealed record Connection(string Server, GrpcChannel Channel, CallInvoker Invoker, DateTime Deadline) : IDisposable
    {
        /// <inheritdoc />
        public void Dispose() => Channel.Dispose();
    }
}
