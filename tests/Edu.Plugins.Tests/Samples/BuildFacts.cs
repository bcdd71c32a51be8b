using System.Reflection;

namespace Edu.Plugins.Tests.Samples;

/// <summary>Paths and the configuration the test assembly was built with (baked in by the project file).</summary>
internal static class BuildFacts
{
    private static string Get(string key) =>
        typeof(BuildFacts).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string RepoRoot => Get("RepoRoot");

    public static string Configuration => Get("Configuration");

    public static string EduCliDll => Get("EduCliDll");
}
