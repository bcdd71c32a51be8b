namespace Edu.Training;

/// <summary>What a finished run produced.</summary>
/// <param name="RunDirectory">The run folder.</param>
/// <param name="ModelDirectory">The model package (<c>RUN/model</c>), best validation weights.</param>
/// <param name="EpochsRun">Epochs completed (fewer than planned after early stopping).</param>
/// <param name="BestEpoch">Epoch of the best validation Dice.</param>
/// <param name="BestValidationDice">Best validation Dice.</param>
/// <param name="History">Every epoch's summary.</param>
/// <param name="StoppedEarly">Whether early stopping ended the run.</param>
public sealed record TrainingResult(
    string RunDirectory,
    string ModelDirectory,
    int EpochsRun,
    int BestEpoch,
    double BestValidationDice,
    IReadOnlyList<EpochSummary> History,
    bool StoppedEarly);
