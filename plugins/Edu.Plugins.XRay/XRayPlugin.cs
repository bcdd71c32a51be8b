using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;

namespace Edu.Plugins.XRay;

/// <summary>
/// The Chest X-ray modality plugin: modality <c>xray</c>, its synthetic generator and the Montgomery County converter.
/// Its pipeline scales radiographs larger than 512×512 down to fit and leaves smaller ones at their own size: scaling
/// a 64×64 image up to 512×512 made 64 times the pixels, 225 windows of a 64-pixel patch instead of one, for no
/// information (docs/benchmarks.md, gRPC section).
/// </summary>
public sealed class XRayPlugin : IEduPlugin
{
    /// <summary>The modality this plugin declares.</summary>
    public static ModalityDescriptor Modality { get; } = new(
        id: "xray",
        name: "Chest X-ray",
        dims: 2,
        channelNames: ["xray"],
        fileFormats: [".png", ".jpg", ".jpeg", ".dcm", ".tif", ".tiff"],
        defaultPipeline: PreprocessingPipeline.Parse("percentile(low=0.5, high=99.5); resize(size=512x512, pad=0, upscale=false)"),
        labelNames: ["background", "left_lung", "right_lung"]);

    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddModality(Modality);
        registry.AddSyntheticGenerator(new ChestRadiographGenerator());
        registry.AddDatasetConverter(new MontgomeryConverter());
    }
}
