using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;

namespace Edu.Plugins.CT;

/// <summary>The Chest CT modality plugin: modality <c>ct</c>, its synthetic generator and its dataset converter.</summary>
public sealed class CTPlugin : IEduPlugin
{
    /// <summary>The modality this plugin declares.</summary>
    public static ModalityDescriptor Modality { get; } = new(
        id: "ct",
        name: "Chest CT",
        dims: 3,
        channelNames: ["CT"],
        fileFormats: [".nii.gz", ".nii", ".mha", ".mhd", ".dcm"],
        defaultPipeline: PreprocessingPipeline.Parse("clip(min=-1000, max=400); resample(spacing=0.8x0.8x2.5); zscore(mask=none)"),
        labelNames: ["background", "lung", "nodule"]);

    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddModality(Modality);
        registry.AddSyntheticGenerator(new ChestCtGenerator());
        registry.AddDatasetConverter(new Luna16Converter());
    }
}
