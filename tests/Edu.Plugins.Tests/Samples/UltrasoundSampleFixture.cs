namespace Edu.Plugins.Tests.Samples;

/// <summary>Builds samples/Edu.Plugins.Ultrasound once with <c>dotnet build</c> into a temporary plugin folder.</summary>
public sealed class UltrasoundSampleFixture : IDisposable
{
    public UltrasoundSampleFixture()
    {
        Directory.CreateDirectory(PluginsFolder);
        string project = Path.Combine(BuildFacts.RepoRoot, "samples", "Edu.Plugins.Ultrasound", "Edu.Plugins.Ultrasound.csproj");
        // --no-dependencies: Edu.Abstractions is already built (this test project references it) in the same configuration
        var build = ChildProcess.Run("dotnet", ["build", project, "-c", BuildFacts.Configuration, "--no-dependencies", "--nologo", "-v", "quiet",
            $"-p:PluginDeployDir={PluginFolder}"]);
        BuildOutput = build.StdOut + build.StdErr;
        BuildExitCode = build.ExitCode;
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "edu-sample-" + Guid.NewGuid().ToString("N"));

    /// <summary>The folder to put on EDU_PLUGINS_PATH.</summary>
    public string PluginsFolder => Path.Combine(Root, "plugins");

    /// <summary>plugins/Edu.Plugins.Ultrasound: the deployed plugin.</summary>
    public string PluginFolder => Path.Combine(PluginsFolder, "Edu.Plugins.Ultrasound");

    public int BuildExitCode { get; }

    public string BuildOutput { get; }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
