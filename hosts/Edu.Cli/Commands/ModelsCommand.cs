using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Cli.Hosting;
using Edu.Models.Blocks;
using Edu.Models.Catalogue;

namespace Edu.Cli.Commands;

/// <summary><c>edu models [--dims 2|3] [--in-channels N] [--classes K] [--base B] [--json]</c>: the model catalogue with parameter counts.</summary>
public static class ModelsCommand
{
    private sealed record Row(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("parameters")] long Parameters,
        [property: JsonPropertyName("description")] string Description);

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var dims = new Option<int>("--dims") { Description = "Spatial dimensions: 2 or 3.", DefaultValueFactory = _ => 2 };
        var inChannels = new Option<int>("--in-channels") { Description = "Input channels.", DefaultValueFactory = _ => 1 };
        var classes = new Option<int>("--classes") { Description = "Output channels (1 for binary).", DefaultValueFactory = _ => 1 };
        var baseChannels = new Option<int?>("--base") { Description = "Base width f_0 (default 32 in 2-D, 16 in 3-D)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON array of {name, parameters, description}." };
        var command = new Command("models", "List the model catalogue with parameter counts for the given shape; export and import weights for PyTorch.")
        {
            dims, inChannels, classes, baseChannels, json, ModelWeightsCommands.Export(), ModelWeightsCommands.Import(),
        };
        command.SetAction(parse =>
        {
            int d = parse.GetValue(dims);
            if (d is not (2 or 3)) throw new InvalidInputException("--dims", $"{d} is not supported: use 2 or 3");
            var h = new ModelHyperparameters(d, parse.GetValue(inChannels), parse.GetValue(classes), parse.GetValue(baseChannels));
            var catalogue = CliPlugins.Models;
            var rows = catalogue.Definitions.Select(def =>
            {
                using var model = catalogue.Create(def.Name, h);
                return new Row(def.Name, Layers.CountParameters(model), def.Description);
            }).ToList();
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(rows, CliJson.Options));
            else
                foreach (var r in rows)
                    Console.Out.WriteLine($"  {r.Name,-20} {r.Parameters,12:N0}  {r.Description}");
            return CliApp.Ok;
        });
        return command;
    }
}
