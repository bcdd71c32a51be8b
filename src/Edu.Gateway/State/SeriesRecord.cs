namespace Edu.Gateway.State;

/// <summary>One series' row in the gateway's state file.</summary>
/// <param name="Id">Row id.</param>
/// <param name="StudyInstanceUid">Study the series belongs to (and the SEG joins).</param>
/// <param name="SeriesInstanceUid">The series.</param>
/// <param name="Model">Model package the series goes to; empty before routing or when skipped.</param>
/// <param name="Version">Model version; empty: the worker's newest.</param>
/// <param name="Rule">The routing rule's name.</param>
/// <param name="State">Where it is.</param>
/// <param name="Attempts">Attempts started at segmenting it.</param>
/// <param name="LastError">Why the last attempt failed, or why the series was skipped.</param>
/// <param name="ArrivedUnixMs">When its first instance was seen.</param>
/// <param name="LastActivityUnixMs">When its last instance was seen.</param>
/// <param name="UpdatedUnixMs">When the row last changed.</param>
/// <param name="NextAttemptUnixMs">Earliest time of the next attempt (failed series).</param>
/// <param name="SegInstanceUid">SOP Instance UID of the stored SEG.</param>
/// <param name="FactsJson">The series attributes routing saw (JSON of <see cref="Routing.SeriesFacts"/>).</param>
/// <param name="LocalFolder">Where the gateway keeps the series' files (its own C-STORE SCP received them); empty: in the PACS.</param>
/// <param name="SegFile">The SEG made for the series, kept until it is stored; empty before and after.</param>
/// <param name="TimingsJson">Where the time of a stored series went (JSON of <c>Processing.SeriesTimings</c>).</param>
public sealed record SeriesRecord(
    long Id, string StudyInstanceUid, string SeriesInstanceUid, string Model, string Version, string Rule, SeriesState State,
    int Attempts, string LastError, long ArrivedUnixMs, long LastActivityUnixMs, long UpdatedUnixMs, long NextAttemptUnixMs,
    string SegInstanceUid, string FactsJson, string LocalFolder = "", string SegFile = "", string TimingsJson = "");
