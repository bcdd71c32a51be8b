using System.Text.Json;
using Edu.Abstractions.Imaging;
using Edu.Imaging;

namespace Edu.Cli.Tests.Commands;

public sealed class DatasetCommandTests : IDisposable
{
    private static readonly string[] FirstPartyConverters = ["brats", "ctc", "isic2018", "kvasir-seg", "luna16", "montgomery", "palm"];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "edu-dataset-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }

    private string MontgomeryReplica()
    {
        string src = Path.Combine(_root, "MontgomerySet");
        var writers = ImageWriterRegistry.CreateDefault();
        ImageVolume Plane(Func<int, int, float> f)
        {
            var v = new float[32 * 32];
            for (int i = 0; i < v.Length; i++) v[i] = f(i % 32, i / 32);
            return new ImageVolume(ImageGeometry.Identity(new VolumeSize(32, 32, 1)), 1, v, PixelType.UInt8);
        }
        foreach (var (folder, image) in ((string, ImageVolume)[])[
            ("CXR_png", Plane((x, y) => x + y)),
            (Path.Combine("ManualMask", "leftMask"), Plane((x, _) => x > 20 ? 255 : 0)),
            (Path.Combine("ManualMask", "rightMask"), Plane((x, _) => x < 10 ? 255 : 0))])
        {
            Directory.CreateDirectory(Path.Combine(src, folder));
            writers.Write(image, Path.Combine(src, folder, "MCUCXR_0001_0.png"));
        }
        return src;
    }

    [Fact]
    public void Convert_writes_an_nnunet_dataset_and_refuses_to_write_into_it_again()
    {
        string src = MontgomeryReplica(), dst = Path.Combine(_root, "Dataset001_Montgomery");

        var run = EduProcess.Run(["dataset", "convert", "--from", "montgomery", src, dst]);

        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("Converted 1 cases", run.StdOut);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dst, "dataset.json"))).RootElement;
        Assert.Equal(1, json.GetProperty("numTraining").GetInt32());
        Assert.Equal(1, json.GetProperty("labels").GetProperty("lung").GetInt32());
        Assert.True(File.Exists(Path.Combine(dst, "imagesTr", "MCUCXR_0001_0_0000.png")));
        var before = Directory.GetFiles(dst, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);

        var again = EduProcess.Run(["dataset", "convert", "--from", "montgomery", src, dst]);

        Assert.Equal(2, again.ExitCode);
        Assert.StartsWith("error: ", again.StdErr);
        Assert.Contains("not empty", again.StdErr);
        Assert.Equal(before, Directory.GetFiles(dst, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc));
    }

    [Fact]
    public void An_unknown_converter_is_bad_input_listing_the_available_ones()
    {
        var run = EduProcess.Run(["dataset", "convert", "--from", "no-such-set", _root, Path.Combine(_root, "out")]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--from no-such-set", run.StdErr);
        foreach (string id in FirstPartyConverters) Assert.Contains(id, run.StdErr);
        Assert.False(Directory.Exists(Path.Combine(_root, "out")));
    }

    [Fact]
    public void An_incomplete_source_is_bad_input_naming_what_is_missing()
    {
        string src = MontgomeryReplica();
        File.Delete(Path.Combine(src, "ManualMask", "rightMask", "MCUCXR_0001_0.png"));

        var run = EduProcess.Run(["dataset", "convert", "--from", "montgomery", src, Path.Combine(_root, "out")]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(Path.Combine("rightMask", "MCUCXR_0001_0.png"), run.StdErr);
        Assert.False(Directory.Exists(Path.Combine(_root, "out")));
    }

    [Fact]
    public void List_json_names_every_first_party_converter_with_its_modality()
    {
        var run = EduProcess.Run(["dataset", "list", "--json"]);

        Assert.True(run.ExitCode == 0, run.StdErr);
        var rows = JsonDocument.Parse(run.StdOut).RootElement.EnumerateArray().ToList();
        Assert.Equal(FirstPartyConverters, rows.Select(r => r.GetProperty("id").GetString()));
        Assert.Equal("mr", rows.Single(r => r.GetProperty("id").GetString() == "brats").GetProperty("modality").GetString());
    }
}
