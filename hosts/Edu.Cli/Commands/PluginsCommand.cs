using System.CommandLine;
using System.Text.Json;
using Edu.Cli.Hosting;

namespace Edu.Cli.Commands;

/// <summary><c>edu plugins [--json]</c>: every plugin found, whether it loaded and why not, and its modalities.</summary>
public static class PluginsCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON array instead of the summary." };
        var command = new Command("plugins", "List the plugins found beside edu (plugins/<Name>/<Name>.dll) and in EDU_PLUGINS_PATH, with their status and modalities.")
        {
            json,
        };
        command.SetAction(parse =>
        {
            var catalog = CliPlugins.Catalog;
            if (parse.GetValue(json))
            {
                var rows = catalog.Plugins.Select(p => new
                {
                    name = p.Name,
                    version = p.Version,
                    path = p.Path,
                    status = CliPlugins.StatusText(p.Status),
                    error = p.Error,
                    modalities = p.Modalities.Select(m => new
                    {
                        id = m.Id,
                        name = m.Name,
                        dims = m.Dims,
                        channels = m.ChannelNames,
                        formats = m.FileFormats,
                    }),
                });
                Console.Out.WriteLine(JsonSerializer.Serialize(rows, CliJson.Options));
                return CliApp.Ok;
            }
            if (catalog.Plugins.Count == 0)
                Console.Out.WriteLine("No plugins found. Searched: " + string.Join(", ", Edu.Plugins.PluginSearchPath.Folders()));
            foreach (var p in catalog.Plugins)
            {
                Console.Out.WriteLine($"{p.Name} {p.Version}: {CliPlugins.StatusText(p.Status)}{(p.Error is null ? "" : " - " + p.Error)}");
                foreach (var m in p.Modalities)
                    Console.Out.WriteLine($"  {m.Id,-12} {m.Name} ({m.Dims}-D; channels {string.Join(", ", m.ChannelNames)}; {string.Join(" ", m.FileFormats)}); preprocessing: {m.DefaultPipeline}");
            }
            return CliApp.Ok;
        });
        return command;
    }
}
