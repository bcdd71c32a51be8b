using Edu.Dicom.Web;
using Edu.Gateway.Routing;
using Edu.Gateway.State;

namespace Edu.Gateway.Ingest;

/// <summary>
/// Ingest from any DICOMweb PACS: QIDO-RS series searches with the configured filters (for example
/// <c>Modality=CT</c>, <c>StudyDate=20261201-</c>), every poll. A series that is new, or whose instance count changed,
/// is recorded as arriving; once its count stays the same for the quiet time it is routed. At the very first poll every
/// series found is only noted, so a new gateway does not segment the archive.
/// </summary>
public sealed class QidoPoller(DicomWebClient pacs, GatewayStateStore state, IReadOnlyDictionary<string, string> filters, int limit)
{
    private const string Initialized = "qido-initialized";
    private const uint StudyUid = 0x0020000D, SeriesUid = 0x0020000E, Modality = 0x00080060, SeriesDescription = 0x0008103E,
        BodyPart = 0x00180015, Instances = 0x00201209, SopClassUid = 0x00080016;

    /// <summary>One poll; returns how many series it recorded as arriving.</summary>
    public async Task<int> PollAsync(CancellationToken cancellationToken)
    {
        var query = filters.Select(f => KeyValuePair.Create(f.Key, f.Value)).ToList();
        foreach (string field in new[] { "NumberOfSeriesRelatedInstances", "SeriesDescription", "BodyPartExamined" })
            query.Add(KeyValuePair.Create("includefield", field));
        query.Add(KeyValuePair.Create("limit", limit.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var found = await pacs.SearchSeriesAsync(query, cancellationToken).ConfigureAwait(false);
        bool first = state.GetCursor(Initialized) is null;
        int recorded = 0;
        foreach (var series in found)
        {
            string? study = series.GetString(StudyUid), uid = series.GetString(SeriesUid);
            int count = series.GetInt(Instances) ?? 0;
            if (study is null || uid is null || state.PolledInstances(uid) == count) continue;
            state.SetPolledInstances(uid, count);
            if (first) continue;
            var instances = await pacs.SearchInstancesAsync(study, uid, cancellationToken).ConfigureAwait(false);
            state.Receive(new SeriesFacts(study, uid, series.GetString(Modality), series.GetString(BodyPart), series.GetString(SeriesDescription),
                instances.Select(i => i.GetString(SopClassUid)).FirstOrDefault(s => s is not null)));
            recorded++;
        }
        if (first) state.SetCursor(Initialized, DateTimeOffset.UtcNow.ToString("O"));
        return recorded;
    }
}
