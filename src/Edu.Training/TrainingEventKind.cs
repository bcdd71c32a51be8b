namespace Edu.Training;

/// <summary>What a <see cref="TrainingEvent"/> reports.</summary>
public enum TrainingEventKind
{
    /// <summary>The run started (or resumed): totals are known.</summary>
    Started,
    /// <summary>A training step finished.</summary>
    Step,
    /// <summary>An epoch finished: loss, validation Dice, learning rate, ETA.</summary>
    EpochEnd,
    /// <summary>A checkpoint folder was written (<see cref="TrainingEvent.Path"/>).</summary>
    CheckpointWritten,
    /// <summary>Training stopped early: no better validation Dice for <c>patience</c> epochs.</summary>
    EarlyStopped,
    /// <summary>The model package was written (<see cref="TrainingEvent.Path"/>); the run is complete.</summary>
    Completed,
}
