namespace Edu.Plugins.Tests.Converters;

/// <summary>A temporary folder with a source and a destination path, deleted at the end of the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Source);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "edu-convert-" + Guid.NewGuid().ToString("N"));

    public string Source => Path.Combine(Root, "src");

    public string Destination => Path.Combine(Root, "out");

    public string In(params string[] parts) => Path.Combine([Source, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
