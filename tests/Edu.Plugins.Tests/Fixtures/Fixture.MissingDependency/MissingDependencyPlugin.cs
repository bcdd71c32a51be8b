using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;

namespace Fixture.MissingDependency;

public sealed class MissingDependencyPlugin : IEduPlugin
{
    public void Register(IPluginRegistry registry) =>
        registry.AddModality(new ModalityDescriptor(Fixture.Helper.HelperValue.Id, "Needs a helper", 2, ["grey"], [".png"], PreprocessingPipeline.Empty, ["background", "x"]));
}
