using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;

namespace Edu.Plugins.Fundus;

/// <summary>The Retinal fundus modality plugin: modality <c>fundus</c>, its synthetic generator and its dataset converter.</summary>
public sealed class FundusPlugin : IEduPlugin
{
    /// <summary>The modality this plugin declares.</summary>
    public static ModalityDescriptor Modality { get; } = new(
        id: "fundus",
        name: "Retinal fundus",
        dims: 2,
        channelNames: ["R", "G", "B"],
        fileFormats: [".jpg", ".jpeg", ".png", ".tif"],
        defaultPipeline: PreprocessingPipeline.Parse("scale(factor=0.00392156862745098, offset=0); resize(size=512x512, pad=0)"),
        labelNames: ["background", "optic_disc", "atrophy", "vessel"]);

    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddModality(Modality);
        registry.AddSyntheticGenerator(new FundusGenerator());
        registry.AddDatasetConverter(new PalmConverter());
    }
}
