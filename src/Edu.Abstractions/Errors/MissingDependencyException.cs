namespace Edu.Abstractions.Errors;

/// <summary>
/// A native library or system package the framework needs is absent or does not load.
/// The message says what is missing and the command that installs it.
/// </summary>
public sealed class MissingDependencyException : EduException
{
    /// <summary>Creates the exception.</summary>
    public MissingDependencyException(string component, string problem, string fix, Exception? inner = null)
        : base($"{component}: {problem}. Fix: {fix}", inner)
    {
        Component = component;
        Fix = fix;
    }

    /// <summary>What is missing, e.g. "GDCM C# binding".</summary>
    public string Component { get; }

    /// <summary>The command or step that fixes it, e.g. "apt-get install libgdcm-cil".</summary>
    public string Fix { get; }
}
