namespace Edu.Training;

/// <summary>
/// The layout of a run folder: <c>model/</c> (model package), <c>checkpoints/last</c>, <c>checkpoints/best</c>,
/// <c>log.jsonl</c>, <c>curves.png</c>, <c>splits.json</c>, <c>options.json</c>.
/// </summary>
public static class RunFolder
{
    /// <summary>Model package folder name.</summary>
    public const string Model = "model";
    /// <summary>Options file name.</summary>
    public const string Options = "options.json";
    /// <summary>Split file name.</summary>
    public const string Splits = "splits.json";

    /// <summary>Prepared cases beyond the memory budget, memory-mapped while the run trains; deleted when it ends.</summary>
    public const string Cache = "cache";
    /// <summary>Per-epoch log file name.</summary>
    public const string Log = "log.jsonl";
    /// <summary>Training curves file name.</summary>
    public const string Curves = "curves.png";
    /// <summary>Trainer state inside a checkpoint folder (epoch, best metric, history).</summary>
    public const string TrainerState = "trainer.json";

    /// <summary><c>RUN/checkpoints/last</c>.</summary>
    public static string LastCheckpoint(string run) => Path.Combine(run, "checkpoints", "last");

    /// <summary><c>RUN/checkpoints/best</c>.</summary>
    public static string BestCheckpoint(string run) => Path.Combine(run, "checkpoints", "best");

    /// <summary>Whether <paramref name="run"/> holds a checkpoint to resume from.</summary>
    public static bool HasCheckpoint(string run) =>
        File.Exists(Path.Combine(LastCheckpoint(run), TrainerState)) || File.Exists(Path.Combine(LastCheckpoint(run) + ".old", TrainerState));
}
