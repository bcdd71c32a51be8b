using Edu.Abstractions.Plugins;

namespace Fixture.Throws;

public sealed class ThrowingPlugin : IEduPlugin
{
    public void Register(IPluginRegistry registry) => throw new InvalidOperationException("the fixture refuses to register");
}
