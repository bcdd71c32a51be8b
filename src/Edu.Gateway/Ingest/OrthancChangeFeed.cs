using System.Text.Json;
using Edu.Dicom.Web;
using Edu.Gateway.Routing;
using Edu.Gateway.State;

namespace Edu.Gateway.Ingest;

/// <summary>
/// Reads Orthanc's change feed (<c>GET /changes?since=N</c>, Orthanc's REST API) for <c>StableSeries</c>: Orthanc
/// says a series is stable once no instance of it came for its <c>StableAge</c> seconds, which is the quiet time here.
/// Each stable series is recorded complete with the attributes routing needs (Orthanc's main tags, the SOP class
/// from QIDO-RS, and the sender's AE title Orthanc kept). The feed's position is kept in the state file, so a restart
/// reads on from where it stopped.
/// </summary>
public sealed class OrthancChangeFeed : IDisposable
{
    private const string Cursor = "orthanc-changes";
    private const uint SopClassUid = 0x00080016;
    private readonly HttpClient _http;
    private readonly DicomWebClient _dicomWeb;
    private readonly GatewayStateStore _state;
    private readonly bool _skipExisting;

    /// <summary>A feed reader of the Orthanc at <paramref name="restUrl"/>, authenticating as <paramref name="options"/> says.</summary>
    public OrthancChangeFeed(Uri restUrl, DicomWebOptions options, DicomWebClient dicomWeb, GatewayStateStore state, bool skipExisting)
    {
        _http = DicomWebClient.CreateHttpClient(options, restUrl);
        _dicomWeb = dicomWeb;
        _state = state;
        _skipExisting = skipExisting;
    }

    /// <summary>Reads every change since the kept position; returns how many stable series it recorded.</summary>
    public async Task<int> PollAsync(CancellationToken cancellationToken)
    {
        long since;
        if (_state.GetCursor(Cursor) is { } kept) since = long.Parse(kept, System.Globalization.CultureInfo.InvariantCulture);
        else if (_skipExisting)
        {
            using var last = await GetAsync("changes?last", cancellationToken).ConfigureAwait(false);
            since = last.RootElement.GetProperty("Last").GetInt64();
            _state.SetCursor(Cursor, since.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        else since = 0;

        int recorded = 0;
        while (true)
        {
            using var page = await GetAsync($"changes?since={since}&limit=100", cancellationToken).ConfigureAwait(false);
            foreach (var change in page.RootElement.GetProperty("Changes").EnumerateArray())
            {
                if (change.GetProperty("ChangeType").GetString() == "StableSeries")
                {
                    _state.Receive(await FactsAsync(change.GetProperty("ID").GetString()!, cancellationToken).ConfigureAwait(false), complete: true);
                    recorded++;
                }
                since = change.GetProperty("Seq").GetInt64();
                _state.SetCursor(Cursor, since.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            long last = page.RootElement.GetProperty("Last").GetInt64();
            if (last > since) { since = last; _state.SetCursor(Cursor, since.ToString(System.Globalization.CultureInfo.InvariantCulture)); }
            if (page.RootElement.GetProperty("Done").GetBoolean()) return recorded;
        }
    }

    private async Task<SeriesFacts> FactsAsync(string orthancSeriesId, CancellationToken cancellationToken)
    {
        using var series = await GetAsync($"series/{Id(orthancSeriesId)}", cancellationToken).ConfigureAwait(false);
        var tags = series.RootElement.GetProperty("MainDicomTags");
        string? Tag(JsonElement element, string name) => element.TryGetProperty(name, out var v) && v.GetString() is { Length: > 0 } s ? s : null;
        using var study = await GetAsync($"studies/{Id(series.RootElement.GetProperty("ParentStudy").GetString()!)}", cancellationToken).ConfigureAwait(false);
        string studyUid = Tag(study.RootElement.GetProperty("MainDicomTags"), "StudyInstanceUID")
            ?? throw new DicomWebException($"Orthanc series {orthancSeriesId}: its study has no StudyInstanceUID", null);
        string seriesUid = Tag(tags, "SeriesInstanceUID") ?? throw new DicomWebException($"Orthanc series {orthancSeriesId} has no SeriesInstanceUID", null);
        var instances = await _dicomWeb.SearchInstancesAsync(studyUid, seriesUid, cancellationToken).ConfigureAwait(false);
        string? sopClass = instances.Select(i => i.GetString(SopClassUid)).FirstOrDefault(s => s is not null);
        string? callingAe = null;
        var firstInstance = series.RootElement.GetProperty("Instances").EnumerateArray().Select(i => i.GetString()).FirstOrDefault();
        if (firstInstance is not null)
        {
            using var response = await _http.GetAsync($"instances/{Id(firstInstance)}/metadata/RemoteAET", cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode) callingAe = (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim();
        }
        return new SeriesFacts(studyUid, seriesUid, Tag(tags, "Modality"), Tag(tags, "BodyPartExamined"), Tag(tags, "SeriesDescription"), sopClass,
            string.IsNullOrEmpty(callingAe) ? null : callingAe);
    }

    private async Task<JsonDocument> GetAsync(string path, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new DicomWebException($"Orthanc change feed: no answer from {_http.BaseAddress!.GetLeftPart(UriPartial.Authority)} ({e.Message})", null, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DicomWebException($"Orthanc change feed: no answer within {_http.Timeout.TotalSeconds:0} s", null, e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new DicomWebException($"Orthanc change feed: GET {path.Split('?')[0]} answered {(int)response.StatusCode} {response.StatusCode}", response.StatusCode);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }
    }

    // Orthanc's identifiers are hex groups and dashes: nothing else reaches a URL
    private static string Id(string id) => id.All(c => c is '-' or (>= '0' and <= '9') or (>= 'a' and <= 'f'))
        ? id : throw new DicomWebException($"Orthanc sent an identifier that is not hex and dashes", null);

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
