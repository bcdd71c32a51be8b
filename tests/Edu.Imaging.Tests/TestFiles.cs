namespace Edu.Imaging.Tests;

/// <summary>Paths of the files in tests/TestData (copied beside the test assembly).</summary>
internal static class TestFiles
{
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "TestData");

    public static string Nifti(string name) => Path.Combine(Root, "nifti", name);

    public static string MetaImage(string name) => Path.Combine(Root, "metaimage", name);

    public static string Png(string name) => Path.Combine(Root, "png", name);

    public static string Tiff(string name) => Path.Combine(Root, "tiff", name);

    /// <summary>A fresh empty folder under the temp directory for files a test writes.</summary>
    public static string NewTempFolder()
    {
        string dir = Path.Combine(Path.GetTempPath(), "edu-imaging-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
