namespace Edu.Gateway.Host;

/// <summary>The <c>edu-gateway</c> executable.</summary>
public static class Program
{
    /// <summary>Runs the gateway until Ctrl+C / SIGTERM; exit code 2 for a configuration it refuses.</summary>
    public static Task<int> Main(string[] args) => GatewayHost.RunAsync(args);
}
