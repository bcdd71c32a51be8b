using Edu.Abstractions.Plugins;

namespace Fixture.OldContract;

public sealed class OldContractPlugin : IEduPlugin
{
    public void Register(IPluginRegistry registry) { }
}
