namespace Edu.Plugins;

/// <summary>
/// The folders the host searches for plugins, in order: <c>plugins/</c> beside the host
/// executable, then each folder of the <c>EDU_PLUGINS_PATH</c> environment variable
/// (separated by <see cref="Path.PathSeparator"/>).
/// </summary>
public static class PluginSearchPath
{
    /// <summary>The environment variable that adds plugin folders.</summary>
    public const string EnvironmentVariable = "EDU_PLUGINS_PATH";

    /// <summary>Every folder searched, whether or not it exists, without duplicates.</summary>
    public static IReadOnlyList<string> Folders(string? hostDirectory = null, string? environmentValue = null)
    {
        var folders = new List<string> { Path.GetFullPath(Path.Combine(hostDirectory ?? AppContext.BaseDirectory, "plugins")) };
        string value = environmentValue ?? Environment.GetEnvironmentVariable(EnvironmentVariable) ?? "";
        foreach (var entry in value.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string full = Path.GetFullPath(entry);
            if (!folders.Contains(full)) folders.Add(full);
        }
        return folders;
    }
}
