namespace Edu.Abstractions.Plugins;

/// <summary>
/// Declares the plugin contract version an assembly was built against. Every plugin assembly
/// carries it: <c>[assembly: EduPluginContract(PluginContract.Version)]</c>. The host refuses an
/// assembly without it or with a version other than its own <see cref="PluginContract.Version"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class EduPluginContractAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="version">Pass <see cref="PluginContract.Version"/>, so the compiler bakes in the version built against.</param>
    public EduPluginContractAttribute(int version) => Version = version;

    /// <summary>The contract version the assembly was built against.</summary>
    public int Version { get; }
}
