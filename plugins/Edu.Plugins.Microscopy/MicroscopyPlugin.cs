using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;

namespace Edu.Plugins.Microscopy;

/// <summary>The Fluorescence microscopy modality plugin: modality <c>microscopy</c>, its synthetic generator and its dataset converter.</summary>
public sealed class MicroscopyPlugin : IEduPlugin
{
    /// <summary>The modality this plugin declares.</summary>
    public static ModalityDescriptor Modality { get; } = new(
        id: "microscopy",
        name: "Fluorescence microscopy",
        dims: 2,
        channelNames: ["fluorescence"],
        fileFormats: [".tif", ".tiff", ".png"],
        defaultPipeline: PreprocessingPipeline.Parse("percentile(low=1, high=99.8)"),
        labelNames: ["background", "nucleus"]);

    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddModality(Modality);
        registry.AddSyntheticGenerator(new FluorescentNucleiGenerator());
        registry.AddDatasetConverter(new CellTrackingConverter());
    }
}
