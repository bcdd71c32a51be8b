using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;

namespace Edu.Plugins.XRay;

/// <summary>
/// The Chest X-ray modality plugin: modality <c>xray</c>, its synthetic generator and the Montgomery County converter.
/// Its pipeline scales every radiograph to fit 512×512, up or down, so that a net sees the anatomy at the scale it was
/// trained at whatever the export's resolution. Synthetic datasets (<c>edu synth</c>) record their own size as the
/// target instead (a 64 px dataset trains and segments at 64 px).
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
        defaultPipeline: PreprocessingPipeline.Parse("percentile(low=0.5, high=99.5); resize(size=512x512, pad=0)"),
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
