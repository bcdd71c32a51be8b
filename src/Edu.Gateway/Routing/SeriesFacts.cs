namespace Edu.Gateway.Routing;

/// <summary>
/// What the gateway knows of an arrived series when it routes it: its UIDs and the attributes rules match on
/// (from QIDO-RS or the first instance's header) and, for C-STORE, the sender's AE title.
/// </summary>
public sealed record SeriesFacts(
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string? Modality = null,
    string? BodyPartExamined = null,
    string? SeriesDescription = null,
    string? SopClassUid = null,
    string? CallingAeTitle = null);
