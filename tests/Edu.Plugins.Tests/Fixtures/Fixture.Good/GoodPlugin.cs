using Edu.Abstractions.Imaging;
using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;
using Edu.Abstractions.Synthetic;

namespace Fixture.Good;

public sealed class GoodPlugin : IEduPlugin
{
    public void Register(IPluginRegistry registry)
    {
        registry.AddModality(new ModalityDescriptor("fixture", "Fixture modality", 2, ["grey"], [".png"],
            PreprocessingPipeline.Parse("invert(max=255)"), ["background", "thing"]));
        registry.AddPreprocessingStep(new InvertStep());
        registry.AddSyntheticGenerator(new SquareGenerator());
        registry.AddModelVariant("fixture-net", "a model variant from a fixture", h => "net:" + h.GetValueOrDefault("classes", "?"));
    }
}

public sealed class InvertStep : IPreprocessingStep
{
    public string Name => "invert";
    public string Description => "invert(max=): v -> max - v";

    public PreprocessingStepResult Apply(ImageVolume image, PreprocessingStepSpec spec)
    {
        float max = (float)spec.GetDouble("max");
        var voxels = image.Voxels.Select(v => max - v).ToArray();
        return new(new ImageVolume(image.Geometry, image.Channels, voxels, image.SourcePixelType),
            new AppliedStep(spec, image.Geometry, image.Channels, new Dictionary<string, string>()));
    }

    public ImageVolume InvertLabels(ImageVolume labels, AppliedStep applied) => labels;
}

public sealed class SquareGenerator : ISyntheticGenerator
{
    public string ModalityId => "fixture";
    public int DefaultSize => 8;

    public SyntheticCase Generate(int seed, int size)
    {
        var image = new float[size * size];
        var labels = new float[size * size];
        for (int y = 1; y < size - 1; y++)
            for (int x = 1; x < size - 1; x++) { image[y * size + x] = 200; labels[y * size + x] = 1; }
        var geometry = ImageGeometry.Identity(new VolumeSize(size, size, 1));
        return new(new ImageVolume(geometry, 1, image, PixelType.UInt8), new ImageVolume(geometry, 1, labels, PixelType.UInt8));
    }
}
