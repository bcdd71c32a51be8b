namespace Edu.Plugins.Tests;

/// <summary>A temporary plugin folder assembled from the deployed first-party plugins and the fixtures.</summary>
internal sealed class PluginFolders : IDisposable
{
    public PluginFolders() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "edu-plugins-" + Guid.NewGuid().ToString("N"));

    public static string FirstParty => Path.Combine(AppContext.BaseDirectory, "plugins");

    public static string Fixtures => Path.Combine(AppContext.BaseDirectory, "fixtures");

    /// <summary>Copies a deployed plugin (first-party or fixture) into the folder; returns its folder.</summary>
    public string Add(string name)
    {
        string source = Directory.Exists(Path.Combine(FirstParty, name)) ? Path.Combine(FirstParty, name) : Path.Combine(Fixtures, name);
        Assert.True(Directory.Exists(source), $"{source} was not deployed by the build");
        string target = Path.Combine(Root, name);
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(source))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    public PluginCatalog Load() => PluginCatalog.Load([Root]);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
