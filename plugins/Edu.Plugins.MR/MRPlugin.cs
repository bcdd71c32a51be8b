using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;

namespace Edu.Plugins.MR;

/// <summary>The Brain MR (BraTS) modality plugin: modality <c>mr</c>, its synthetic generator and its dataset converter.</summary>
public sealed class MRPlugin : IEduPlugin
{
    /// <summary>The modality this plugin declares.</summary>
    public static ModalityDescriptor Modality { get; } = new(
        id: "mr",
        name: "Brain MR (BraTS)",
        dims: 3,
        channelNames: ["T1", "T1ce", "T2", "FLAIR"],
        fileFormats: [".nii.gz", ".nii", ".mha", ".dcm"],
        defaultPipeline: PreprocessingPipeline.Parse("zscore(mask=nonzero)"),
        labelNames: ["background", "necrosis", "edema", "enhancing_tumor"]);

    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddModality(Modality);
        registry.AddSyntheticGenerator(new BrainTumorMrGenerator());
        registry.AddDatasetConverter(new BratsConverter());
    }
}
