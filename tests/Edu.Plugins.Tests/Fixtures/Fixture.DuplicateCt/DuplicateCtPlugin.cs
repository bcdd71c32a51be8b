using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;

namespace Fixture.DuplicateCt;

public sealed class DuplicateCtPlugin : IEduPlugin
{
    public void Register(IPluginRegistry registry) =>
        registry.AddModality(new ModalityDescriptor("ct", "Another CT", 3, ["CT"], [".nii.gz"], PreprocessingPipeline.Empty, ["background", "organ"]));
}
