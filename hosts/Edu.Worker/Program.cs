namespace Edu.Worker;

/// <summary>The <c>edu-worker</c> executable.</summary>
public static class Program
{
    /// <summary>Runs the worker; exit code 2 for a configuration the worker refuses.</summary>
    public static Task<int> Main(string[] args) => WorkerHost.RunAsync(args);
}
