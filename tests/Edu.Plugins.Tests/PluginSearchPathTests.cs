namespace Edu.Plugins.Tests;

public sealed class PluginSearchPathTests
{
    [Fact]
    public void Host_plugins_folder_comes_first_then_the_environment_folders_without_duplicates()
    {
        string host = Path.GetFullPath("/opt/edu");
        var folders = PluginSearchPath.Folders(host, $"/srv/a{Path.PathSeparator} /srv/b {Path.PathSeparator}/srv/a{Path.PathSeparator}");

        Assert.Equal([Path.Combine(host, "plugins"), "/srv/a", "/srv/b"], folders);
    }
}
