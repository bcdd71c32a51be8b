using System.CommandLine;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Abstractions.Modalities;
using Edu.Abstractions.Preprocessing;
using Edu.Abstractions.Serialization;
using Edu.Cli.Hosting;
using Edu.Imaging;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu synth --modality ID --count N --out DIR [--size S] [--seed S] [--test N]</c>: writes a
/// synthetic nnU-Net v2 dataset (dataset.json, imagesTr/labelsTr, held-out imagesTs/labelsTs) from a
/// modality plugin's generator. 2-D modalities are written as PNG (RGB in one file, as nnU-Net's
/// natural-image reader expects), 3-D as NIfTI with one file per channel.
/// </summary>
public static class SynthCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var modality = new Option<string>("--modality") { Description = "Modality id (see `edu plugins`).", Required = true };
        var count = new Option<int>("--count") { Description = "Number of training cases.", Required = true };
        var output = new Option<string>("--out") { Description = "New or empty folder to write the dataset into.", Required = true };
        var size = new Option<int?>("--size") { Description = "In-plane size in pixels (default: the generator's)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the first case; case i uses seed + i.", DefaultValueFactory = _ => 0 };
        var test = new Option<int?>("--test") { Description = "Held-out cases in imagesTs/labelsTs (default: count / 5, at least 1)." };
        var command = new Command("synth", "Write a synthetic dataset with exact labels in the nnU-Net v2 layout.")
        {
            modality, count, output, size, seed, test,
        };
        command.SetAction(parse =>
        {
            var cancellationToken = CancellationToken.None;
            string id = parse.GetValue(modality)!;
            int n = parse.GetValue(count);
            string outDir = Path.GetFullPath(parse.GetValue(output)!);
            int first = parse.GetValue(seed);
            if (n < 1) throw new InvalidInputException("--count", $"{n}: at least one training case");
            int held = parse.GetValue(test) ?? Math.Max(1, n / 5);
            if (held < 0) throw new InvalidInputException("--test", $"{held}: cannot be negative");
            var descriptor = CliPlugins.Catalog.GetModality(id);
            var generator = CliPlugins.Catalog.FindGenerator(id)
                ?? throw new InvalidInputException($"--modality {id}", "no plugin registers a synthetic generator for this modality");
            int side = parse.GetValue(size) ?? generator.DefaultSize;
            if (side is < 32 or > 4096) throw new InvalidInputException("--size", $"{side}: use 32 to 4096 pixels");
            if (File.Exists(outDir)) throw new InvalidInputException(outDir, "is a file; --out must be a new or empty folder");
            if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
                throw new InvalidInputException(outDir, "the folder is not empty; refusing to overwrite it (choose a new or empty folder)");

            var writers = ImageWriterRegistry.CreateDefault();
            string ending = descriptor.Dims == 2 ? ".png" : ".nii.gz";
            foreach (string sub in (string[])["imagesTr", "labelsTr", "imagesTs", "labelsTs"])
                Directory.CreateDirectory(Path.Combine(outDir, sub));
            for (int i = 0; i < n + held; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                bool training = i < n;
                string caseId = $"{id}_{i:D3}";
                var generated = generator.Generate(first + i, side);
                string images = Path.Combine(outDir, training ? "imagesTr" : "imagesTs");
                string labels = Path.Combine(outDir, training ? "labelsTr" : "labelsTs");
                if (descriptor.Dims == 2)
                    writers.Write(generated.Image, Path.Combine(images, $"{caseId}_0000{ending}"), cancellationToken);
                else
                    for (int c = 0; c < generated.Image.Channels; c++)
                        writers.Write(OneChannel(generated.Image, c), Path.Combine(images, $"{caseId}_{c:D4}{ending}"), cancellationToken);
                writers.Write(generated.Labels, Path.Combine(labels, caseId + ending), cancellationToken);
            }
            File.WriteAllText(Path.Combine(outDir, "dataset.json"), JsonSerializer.Serialize(DatasetJson(descriptor, n, ending, side), EduJson.Indented));
            Console.Out.WriteLine($"Wrote {n} training and {held} held-out {descriptor.Name} cases ({side} px) to {outDir}");
            return CliApp.Ok;
        });
        return command;
    }

    private static Dictionary<string, object> DatasetJson(ModalityDescriptor m, int training, string ending, int side) => new()
    {
        ["name"] = $"Synthetic {m.Name}",
        ["description"] = $"Synthetic {m.Name} cases with exact labels, written by edu synth (modality {m.Id}).",
        ["channel_names"] = m.ChannelNames.Select((name, i) => (name, i)).ToDictionary(p => p.i.ToString(System.Globalization.CultureInfo.InvariantCulture), p => p.name),
        ["labels"] = m.LabelNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i),
        ["numTraining"] = training,
        ["file_ending"] = ending,
        ["modality"] = m.Id,
        ["preprocessing"] = AtOwnSize(m.DefaultPipeline, side).ToString(),
    };

    // The modality's pipeline with its in-plane resize aimed at the generated size: synthetic cases are made at the
    // scale they are meant to be seen at, and scaling 64 px cases up to a radiograph's 512 px only multiplies the work.
    private static PreprocessingPipeline AtOwnSize(PreprocessingPipeline pipeline, int side) =>
        new(pipeline.Steps.Select(step => step.Name == StandardStepNames.Resize
            ? step.With("size", PreprocessingStepSpec.Format([side, side]))
            : step));

    private static ImageVolume OneChannel(ImageVolume image, int c) =>
        new(image.Geometry, 1, image.Channel(c).ToArray(), image.SourcePixelType);
}
