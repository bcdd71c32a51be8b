namespace Edu.Gateway.State;

/// <summary>Where a series is in the gateway. Every change is one SQLite transaction, so a kill leaves one of these.</summary>
public enum SeriesState
{
    /// <summary>Instances are arriving; routed once none came for the quiet time (DICOM has no "series complete").</summary>
    Received = 0,

    /// <summary>A rule picked the model; waiting for a worker.</summary>
    Routed = 1,

    /// <summary>Being fetched, segmented and stored. Back to <see cref="Routed"/> when the gateway restarts mid-way.</summary>
    Segmenting = 2,

    /// <summary>The SEG is in the PACS. Never sent again for the same model and version.</summary>
    Stored = 3,

    /// <summary>The last attempt failed; tried again after a delay.</summary>
    Failed = 4,

    /// <summary>Failed on every allowed attempt; waits for <c>edu gateway retry</c>.</summary>
    DeadLetter = 5,

    /// <summary>Not segmented: no rule matched, or not an image (reason recorded).</summary>
    Skipped = 6,
}

/// <summary>The names of the states in the CLI, <c>/healthz</c> and <c>/metrics</c>: lower case, <c>dead-letter</c>.</summary>
public static class SeriesStates
{
    /// <summary>The name of <paramref name="state"/>.</summary>
    public static string Name(this SeriesState state) => state == SeriesState.DeadLetter ? "dead-letter" : state.ToString().ToLowerInvariant();

    /// <summary>The state named <paramref name="name"/>, or null.</summary>
    public static SeriesState? Parse(string name) =>
        Enum.GetValues<SeriesState>().Where(s => s.Name() == name.Trim().ToLowerInvariant()).Select(s => (SeriesState?)s).FirstOrDefault();
}
