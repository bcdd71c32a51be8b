using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;

namespace Edu.Plugins.Endoscopy;

/// <summary>The Colonoscopy modality plugin: modality <c>endoscopy</c>, its synthetic generator and its dataset converter.</summary>
public sealed class EndoscopyPlugin : IEduPlugin
{
    /// <summary>The modality this plugin declares.</summary>
    public static ModalityDescriptor Modality { get; } = new(
        id: "endoscopy",
        name: "Colonoscopy",
        dims: 2,
        channelNames: ["R", "G", "B"],
        fileFormats: [".jpg", ".jpeg", ".png"],
        defaultPipeline: PreprocessingPipeline.Parse("scale(factor=0.00392156862745098, offset=0); resize(size=512x512, pad=0)"),
        labelNames: ["background", "polyp"]);

    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddModality(Modality);
        registry.AddSyntheticGenerator(new PolypGenerator());
        registry.AddDatasetConverter(new KvasirSegConverter());
    }
}
