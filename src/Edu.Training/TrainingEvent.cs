namespace Edu.Training;

/// <summary>
/// A progress report from <see cref="Trainer.Run"/>. Epochs are 1-based. <see cref="Loss"/> is the running
/// mean training loss of the epoch (on <see cref="TrainingEventKind.Step"/> it is refreshed every few steps
/// and on the last step, so that reading it back does not stall every step).
/// </summary>
/// <param name="Kind">What happened.</param>
/// <param name="Epoch">Current epoch, 1-based.</param>
/// <param name="Epochs">Total epochs planned.</param>
/// <param name="Step">Step within the epoch, 1-based (0 outside steps).</param>
/// <param name="StepsPerEpoch">Steps in one epoch.</param>
/// <param name="Loss">Mean training loss so far in the epoch, when known.</param>
/// <param name="ValidationDice">Validation Dice of the epoch (EpochEnd) or the best so far.</param>
/// <param name="LearningRate">Learning rate in use.</param>
/// <param name="Eta">Estimated time to the last epoch.</param>
/// <param name="Path">The folder written (CheckpointWritten, Completed).</param>
/// <param name="Message">A short human line.</param>
public sealed record TrainingEvent(
    TrainingEventKind Kind,
    int Epoch,
    int Epochs,
    int Step,
    int StepsPerEpoch,
    double? Loss,
    double? ValidationDice,
    double LearningRate,
    TimeSpan? Eta,
    string? Path,
    string Message);
