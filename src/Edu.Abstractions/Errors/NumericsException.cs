namespace Edu.Abstractions.Errors;

/// <summary>
/// Computation produced numbers that cannot be used: the CPU's kernels disagree with a float64 reference, a training
/// loss turned NaN or infinite, or a net's output is not finite. The message names what diverged and where.
/// </summary>
public class NumericsException : EduException
{
    /// <summary>Creates the exception.</summary>
    public NumericsException(string message, Exception? inner = null) : base(message, inner) { }
}
