namespace Edu.Cli.Tests;

/// <summary>Paths of the files in tests/TestData (see its README for their origin).</summary>
internal static class TestFiles
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData");

    public static string Dicom(params string[] parts) => Path.Combine([Root, "dicom", .. parts]);

    public static string Nifti(params string[] parts) => Path.Combine([Root, "nifti", .. parts]);
}
