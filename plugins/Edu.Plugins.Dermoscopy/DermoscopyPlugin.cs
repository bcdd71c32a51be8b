using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;

namespace Edu.Plugins.Dermoscopy;

/// <summary>The Dermoscopy modality plugin: modality <c>dermoscopy</c>, its synthetic generator and its dataset converter.</summary>
public sealed class DermoscopyPlugin : IEduPlugin
{
    /// <summary>The modality this plugin declares.</summary>
    public static ModalityDescriptor Modality { get; } = new(
        id: "dermoscopy",
        name: "Dermoscopy",
        dims: 2,
        channelNames: ["R", "G", "B"],
        fileFormats: [".jpg", ".jpeg", ".png"],
        defaultPipeline: PreprocessingPipeline.Parse("scale(factor=0.00392156862745098, offset=0); resize(size=512x512, pad=0)"),
        labelNames: ["background", "lesion"]);

    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddModality(Modality);
        registry.AddSyntheticGenerator(new SkinLesionGenerator());
        registry.AddDatasetConverter(new Isic2018Converter());
    }
}
