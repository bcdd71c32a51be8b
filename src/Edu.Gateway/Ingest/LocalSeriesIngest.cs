using Edu.Abstractions.Errors;
using Edu.Dicom;
using Edu.Gateway.Dimse;
using Edu.Gateway.Routing;
using Edu.Gateway.State;

namespace Edu.Gateway.Ingest;

/// <summary>
/// Keeps what the gateway's own Storage SCP receives: each instance is checked (a DICOM file whose header names the
/// instance the C-STORE announced), moved into its series' folder under the spool and recorded in the state file,
/// before the SCP answers Success. The series is routed once no instance came for the quiet time.
/// </summary>
public sealed class LocalSeriesIngest(GatewayStateStore state, string seriesRoot)
{
    private const uint StudyUid = 0x0020000D, SeriesUid = 0x0020000E, SopClassUid = 0x00080016, SopInstanceUid = 0x00080018,
        Modality = 0x00080060, SeriesDescription = 0x0008103E, BodyPart = 0x00180015;

    /// <summary>The folder holding the received files of <paramref name="seriesInstanceUid"/>.</summary>
    public string SeriesFolder(string seriesInstanceUid) => Path.Combine(seriesRoot, seriesInstanceUid);

    /// <summary>The SCP's handler: keeps <paramref name="instance"/> or throws (the C-STORE is then refused).</summary>
    public Task KeepAsync(ReceivedInstance instance, CancellationToken cancellationToken)
    {
        var header = DicomStructure.Validate(instance.File);
        string Text(uint tag) => header.Text.TryGetValue(tag, out var v) ? v : "";
        string sopInstance = Text(SopInstanceUid);
        if (Text(StudyUid).Length == 0 || Text(SeriesUid).Length == 0)
            throw new InvalidInputException(instance.SopInstanceUid, "the instance has no Study or Series Instance UID");
        if (!string.Equals(sopInstance, instance.SopInstanceUid, StringComparison.Ordinal))
            throw new InvalidInputException(instance.SopInstanceUid, "the data set's SOP Instance UID is not the one the C-STORE announced");
        if (!IsUid(Text(SeriesUid)) || !IsUid(sopInstance))
            throw new InvalidInputException(instance.SopInstanceUid, "a Series or SOP Instance UID that is not digits and dots");
        string folder = SeriesFolder(Text(SeriesUid));
        Directory.CreateDirectory(folder);
        File.Move(instance.File, Path.Combine(folder, sopInstance + ".dcm"), overwrite: true); // the same instance sent again replaces itself
        var facts = new SeriesFacts(Text(StudyUid), Text(SeriesUid), Nullable(Text(Modality)), Nullable(Text(BodyPart)),
            Nullable(Text(SeriesDescription)), Nullable(Text(SopClassUid)), instance.CallingAeTitle);
        state.Receive(facts, folder);
        return Task.CompletedTask;
    }

    private static string? Nullable(string value) => value.Length == 0 ? null : value;

    private static bool IsUid(string uid) => uid.Length is > 0 and <= 64 && uid.All(c => c is '.' or (>= '0' and <= '9'));
}
