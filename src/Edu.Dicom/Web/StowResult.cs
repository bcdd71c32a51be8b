using System.Net;

namespace Edu.Dicom.Web;

/// <summary>What a STOW-RS request stored and refused (PS3.18 10.5.3: Referenced SOP Sequence, Failed SOP Sequence).</summary>
/// <param name="Stored">SOP Instance UIDs the service stored.</param>
/// <param name="Failed">SOP Instance UIDs it refused, with the Failure Reason (0008,1197) as a number.</param>
/// <param name="Status">The HTTP status (200 all stored, 202 some, 409 none).</param>
public sealed record StowResult(IReadOnlyList<string> Stored, IReadOnlyList<(string SopInstanceUid, int? Reason)> Failed, HttpStatusCode Status)
{
    private const uint ReferencedSopSequence = 0x00081199, FailedSopSequence = 0x00081198;
    private const uint ReferencedSopInstanceUid = 0x00081155, FailureReason = 0x00081197;

    /// <summary>Reads the DICOM JSON answer of a STOW-RS request.</summary>
    public static StowResult Parse(string json, HttpStatusCode status)
    {
        DicomJsonDataset? answer;
        try
        {
            answer = string.IsNullOrWhiteSpace(json) ? null
                : json.TrimStart().StartsWith('[') ? DicomJsonDataset.ParseArray(json).FirstOrDefault()
                : new DicomJsonDataset(System.Text.Json.JsonDocument.Parse(json).RootElement);
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            throw new DicomWebException($"STOW-RS store: the answer is not DICOM JSON ({e.Message})", status, e);
        }
        if (answer is null) return new StowResult([], [], status);
        var stored = answer.GetSequence(ReferencedSopSequence).Select(i => i.GetString(ReferencedSopInstanceUid)).OfType<string>().ToList();
        var failed = answer.GetSequence(FailedSopSequence).Select(i => (i.GetString(ReferencedSopInstanceUid) ?? "", i.GetInt(FailureReason))).ToList();
        return new StowResult(stored, failed, status);
    }
}
