using System.CommandLine;
using System.Text.Json;
using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Cli.Hosting;
using Edu.Dicom;
using Edu.Imaging;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu dataset convert --from ID SRC DST</c>: converts a public dataset, as downloaded, into the
/// nnU-Net v2 layout with a plugin's converter; <c>edu dataset list [--json]</c>: the converters the
/// loaded plugins offer.
/// </summary>
public static class DatasetCommand
{
    /// <summary>Creates the command group.</summary>
    public static Command Create()
    {
        var command = new Command("dataset", "Convert public datasets (Montgomery, LUNA16, BraTS, CTC, ISIC 2018, Kvasir-SEG, PALM...) into the nnU-Net v2 layout.");
        command.Subcommands.Add(CreateConvert());
        command.Subcommands.Add(CreateList());
        return command;
    }

    private static Command CreateConvert()
    {
        var from = new Option<string>("--from")
        {
            Description = "Converter id: montgomery, luna16, brats, ctc, isic2018, kvasir-seg, palm, or one a plugin adds (see `edu dataset list`).",
            Required = true,
        };
        var source = new Argument<string>("SRC") { Description = "The dataset's folder, as downloaded and unpacked." };
        var destination = new Argument<string>("DST") { Description = "New or empty folder for the nnU-Net v2 dataset." };
        var command = new Command("convert", "Convert a public dataset's own layout into dataset.json, imagesTr, labelsTr, imagesTs.")
        {
            from, source, destination,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            string id = parse.GetValue(from)!;
            var catalog = CliPlugins.Catalog;
            var converter = catalog.FindConverter(id)
                ?? throw new InvalidInputException($"--from {id}", $"no plugin registers this converter; available: {Available(catalog.Converters)}");
            string src = Path.GetFullPath(parse.GetValue(source)!);
            string dst = Path.GetFullPath(parse.GetValue(destination)!);
            var context = new DatasetConversionContext(
                ImageReaderRegistry.CreateDefault([new DicomImageReader(), .. catalog.Readers]).Readers,
                ImageWriterRegistry.CreateDefault().Writers);
            int cases = converter.Convert(src, dst, context, cancellationToken);
            Console.Out.WriteLine($"Converted {cases} cases ({converter.Id}, modality {converter.ModalityId}) to {dst}");
            return Task.FromResult(CliApp.Ok);
        });
        return command;
    }

    private static Command CreateList()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON array of {\"id\",\"modality\",\"description\"}." };
        var command = new Command("list", "List the dataset converters of the loaded plugins.") { json };
        command.SetAction(parse =>
        {
            var converters = CliPlugins.Catalog.Converters.OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(converters.Select(c => new { id = c.Id, modality = c.ModalityId, description = c.Description }), CliJson.Options));
                return CliApp.Ok;
            }
            if (converters.Count == 0) Console.Out.WriteLine("No dataset converters: no plugin that registers one is loaded (see `edu plugins`).");
            foreach (var c in converters)
                Console.Out.WriteLine($"{c.Id,-12} {c.ModalityId,-11} {c.Description}");
            return CliApp.Ok;
        });
        return command;
    }

    private static string Available(IEnumerable<IDatasetConverter> converters) =>
        converters.Any() ? string.Join(", ", converters.Select(c => c.Id).Order(StringComparer.Ordinal)) : "(none: no plugin with converters is loaded)";
}
