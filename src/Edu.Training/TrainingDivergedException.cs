using System.Globalization;
using Edu.Abstractions.Errors;

namespace Edu.Training;

/// <summary>
/// Training produced numbers that cannot be used: a NaN or infinite loss, or weights that are no longer finite. The
/// run stops at once and writes nothing more; its checkpoints stay as they were after the last good epoch. The message
/// reads <c>training diverged at epoch E step S (loss NaN); last good checkpoint: PATH</c> (or <c>no checkpoint yet</c>).
/// </summary>
public sealed class TrainingDivergedException : NumericsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="epoch">The epoch (1-based) in which it diverged.</param>
    /// <param name="step">The step within that epoch (1-based) whose loss or update was not finite.</param>
    /// <param name="what">What was not finite, e.g. <c>loss NaN</c>.</param>
    /// <param name="lastCheckpoint">The last checkpoint written before, or null when there is none.</param>
    /// <param name="inner">The error that showed it, if any (e.g. the validation's <see cref="NumericsException"/>).</param>
    public TrainingDivergedException(int epoch, int step, string what, string? lastCheckpoint, Exception? inner = null)
        : base($"training diverged at epoch {epoch} step {step} ({what}); "
               + (lastCheckpoint is null ? "no checkpoint yet" : $"last good checkpoint: {lastCheckpoint}"), inner)
    {
        Epoch = epoch;
        Step = step;
        LastCheckpoint = lastCheckpoint;
    }

    /// <summary>The epoch (1-based) in which training diverged.</summary>
    public int Epoch { get; }

    /// <summary>The step within <see cref="Epoch"/> (1-based).</summary>
    public int Step { get; }

    /// <summary>The last checkpoint written before training diverged (untouched), or null when there is none.</summary>
    public string? LastCheckpoint { get; }

    /// <summary>How a non-finite loss reads in the message: <c>loss NaN</c>, <c>loss Infinity</c>, <c>loss -Infinity</c>.</summary>
    public static string Loss(double value) => "loss " + value.ToString(CultureInfo.InvariantCulture);
}
