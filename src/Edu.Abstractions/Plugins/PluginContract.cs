namespace Edu.Abstractions.Plugins;

/// <summary>
/// The version of the plugin contract (the types in <c>Edu.Abstractions</c> a plugin codes against).
/// A plugin states the version it was built against with
/// <c>[assembly: EduPluginContract(PluginContract.Version)]</c>; the constant is copied into the
/// plugin at compile time, so a host built against another version refuses it with a clear message.
/// The number changes only when a change breaks plugins already built.
/// </summary>
public static class PluginContract
{
    /// <summary>The contract version this build of <c>Edu.Abstractions</c> defines.</summary>
    public const int Version = 1;
}
