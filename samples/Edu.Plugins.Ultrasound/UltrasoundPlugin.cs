using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;

namespace Edu.Plugins.Ultrasound;

/// <summary>
/// The plugin's one entry point: a public class with a parameterless constructor implementing
/// <see cref="IEduPlugin"/>. The host calls <see cref="Register"/> once; what it registers is kept only
/// if the call returns without throwing and nothing clashes with another plugin.
/// </summary>
public sealed class UltrasoundPlugin : IEduPlugin
{
    /// <summary>B-mode ultrasound: 2-D, one grey channel, lesion segmentation.</summary>
    public static ModalityDescriptor Modality { get; } = new(
        id: "ultrasound",
        name: "B-mode ultrasound",
        dims: 2,
        channelNames: ["US"],
        fileFormats: [".png", ".jpg", ".jpeg", ".bmp", ".dcm", ".pgm"],
        defaultPipeline: PreprocessingPipeline.Parse("despeckle(radius=1); percentile(low=1, high=99); resize(size=256x256, pad=0)"),
        labelNames: ["background", "lesion"]);

    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddModality(Modality);
        registry.AddPreprocessingStep(new DespeckleStep());
        registry.AddSyntheticGenerator(new SpeckleLesionGenerator());
        registry.AddReader(new PgmReader());
        registry.AddModelVariant("us-lite", "compact two-scale encoder-decoder for 2-D ultrasound (sample plugin)", h => new LiteNet(h));
    }
}
