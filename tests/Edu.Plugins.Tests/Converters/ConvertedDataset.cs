using System.Text.Json;
using Edu.Abstractions.Imaging;

namespace Edu.Plugins.Tests.Converters;

/// <summary>A converted dataset read back as a trainer would: dataset.json and the files it names.</summary>
internal sealed class ConvertedDataset(string root)
{
    public JsonElement Json { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "dataset.json"))).RootElement.Clone();

    public string Ending => Json.GetProperty("file_ending").GetString()!;

    public int NumTraining => Json.GetProperty("numTraining").GetInt32();

    public Dictionary<string, int> Labels => Json.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());

    public string[] ChannelNames => [.. Json.GetProperty("channel_names").EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.Value.GetString()!)];

    public string[] Files(string folder) =>
        Directory.Exists(Path.Combine(root, folder)) ? [.. Directory.GetFiles(Path.Combine(root, folder)).Select(Path.GetFileName).Order(StringComparer.Ordinal)!] : [];

    public ImageVolume Image(string caseId, int channel = 0, string folder = "imagesTr") =>
        ReplicaFiles.Readers.Read(Path.Combine(root, folder, $"{caseId}_{channel:D4}{Ending}"));

    public ImageVolume Label(string caseId, string folder = "labelsTr") =>
        ReplicaFiles.Readers.Read(Path.Combine(root, folder, caseId + Ending));

    /// <summary>Every training case has its channel files and a label file with values among dataset.json's labels.</summary>
    public void AssertLoads()
    {
        var cases = Files("labelsTr").Select(f => f[..^Ending.Length]).ToList();
        Assert.Equal(NumTraining, cases.Count);
        // nnU-Net's natural-image convention: R, G, B named as three channels but stored in one _0000 file
        int filesPerCase = Ending == ".png" && ChannelNames.SequenceEqual(["R", "G", "B"]) ? 1 : ChannelNames.Length;
        Assert.Equal(NumTraining * filesPerCase, Files("imagesTr").Length);
        var allowed = Labels.Values.Select(v => (float)v).ToHashSet();
        foreach (string c in cases)
        {
            var label = Label(c);
            Assert.Equal(1, label.Channels);
            Assert.All(label.Voxels.Distinct(), v => Assert.Contains(v, allowed));
            for (int ch = 0; ch < filesPerCase; ch++)
                Assert.True(Image(c, ch).Geometry.IsCloseTo(label.Geometry), $"{c} channel {ch}: geometry differs from its label's");
        }
    }
}
