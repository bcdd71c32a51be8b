namespace Edu.Worker;

/// <summary>The worker was asked to listen beyond loopback without an API key; it refuses to start.</summary>
public sealed class InsecureBindingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InsecureBindingException(string message) : base(message) { }
}
