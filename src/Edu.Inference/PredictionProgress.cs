namespace Edu.Inference;

/// <summary>Progress of one <see cref="Predictor.Predict"/> call, reported after each batch of windows.</summary>
/// <param name="CompletedWindows">Windows (including their flips when TTA is on) run so far.</param>
/// <param name="TotalWindows">Windows the whole prediction runs: per slice for a 2-D model on a volume.</param>
public sealed record PredictionProgress(int CompletedWindows, int TotalWindows)
{
    /// <summary>Completed share in [0, 1].</summary>
    public double Fraction => TotalWindows == 0 ? 1 : (double)CompletedWindows / TotalWindows;
}
