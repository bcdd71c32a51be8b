using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Edu.Dicom.Web;

/// <summary>
/// A DICOMweb client (PS3.18) on plain <see cref="HttpClient"/>: QIDO-RS search (DICOM JSON), WADO-RS retrieval of a
/// series (<c>multipart/related; type="application/dicom"</c>, streamed to files), and STOW-RS storage of instances.
/// No DICOM NuGet package is served to this project, and these three are all a gateway needs.
/// </summary>
public sealed class DicomWebClient : IDisposable
{
    private const string DicomJson = "application/dicom+json";
    private const string Dicom = "application/dicom";
    private readonly HttpClient _http;
    private readonly DicomWebOptions _options;

    /// <summary>A client for the service of <paramref name="options"/>; <paramref name="handler"/> replaces the HTTP stack (tests).</summary>
    public DicomWebClient(DicomWebOptions options, HttpMessageHandler? handler = null)
    {
        _options = options;
        _http = CreateHttpClient(options, options.BaseUrl, handler);
    }

    /// <summary>
    /// An <see cref="HttpClient"/> for <paramref name="baseUrl"/> with the authentication, TLS trust and timeout of
    /// <paramref name="options"/>: the DICOMweb client's, also for another API of the same server (Orthanc's REST API).
    /// </summary>
    public static HttpClient CreateHttpClient(DicomWebOptions options, Uri baseUrl, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(baseUrl);
        var http = new HttpClient(handler ?? CreateHandler(options), disposeHandler: true)
        {
            BaseAddress = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/"),
            Timeout = options.Timeout,
        };
        if (!string.IsNullOrEmpty(options.BearerToken))
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.BearerToken);
        else if (!string.IsNullOrEmpty(options.Username))
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}")));
        return http;
    }

    /// <summary>
    /// QIDO-RS: the series that match <paramref name="query"/> (attribute keyword or tag → value, e.g.
    /// <c>Modality=CT</c>, <c>StudyDate=20261201-</c>, <c>includefield=SeriesDescription</c>), across all studies.
    /// </summary>
    public Task<IReadOnlyList<DicomJsonDataset>> SearchSeriesAsync(IEnumerable<KeyValuePair<string, string>> query, CancellationToken cancellationToken = default) =>
        SearchAsync("series" + QueryString(query), cancellationToken);

    /// <summary>QIDO-RS: the instances of one series (with the attributes the service returns by default).</summary>
    public Task<IReadOnlyList<DicomJsonDataset>> SearchInstancesAsync(string studyUid, string seriesUid, CancellationToken cancellationToken = default) =>
        SearchAsync($"studies/{Uid(studyUid)}/series/{Uid(seriesUid)}/instances", cancellationToken);

    /// <summary>
    /// WADO-RS: every instance of a series, as stored (no transcoding asked), each written to its own file in
    /// <paramref name="folder"/> while it arrives. Returns the files in the order the service sent them.
    /// </summary>
    public async Task<IReadOnlyList<string>> RetrieveSeriesAsync(string studyUid, string seriesUid, string folder, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(folder);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"studies/{Uid(studyUid)}/series/{Uid(seriesUid)}");
        request.Headers.Accept.ParseAdd($"multipart/related; type=\"{Dicom}\"; transfer-syntax=*");
        using var response = await SendAsync(request, "WADO-RS retrieve series", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var contentType = response.Content.Headers.ContentType;
        if (!string.Equals(contentType?.MediaType, "multipart/related", StringComparison.OrdinalIgnoreCase))
            throw new DicomWebException($"WADO-RS retrieve series: the answer is {contentType?.MediaType ?? "untyped"}, not multipart/related", response.StatusCode);
        string boundary = MultipartRelatedReader.Boundary(contentType)
            ?? throw new DicomWebException("WADO-RS retrieve series: the multipart answer names no boundary", response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        try
        {
            var parts = await new MultipartRelatedReader(body, boundary).SavePartsAsync(folder, _options.MaxInstanceBytes, cancellationToken);
            return parts.Select(p => p.File).ToList();
        }
        catch (FormatException e)
        {
            throw new DicomWebException($"WADO-RS retrieve series: {e.Message}", response.StatusCode, e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new DicomWebException($"WADO-RS retrieve series: the transfer broke off ({e.Message})", null, e);
        }
    }

    /// <summary>
    /// STOW-RS: stores the DICOM files in one request (into <paramref name="studyUid"/>'s study when given, which the
    /// service then checks). Returns what the service stored and what it refused, with its reasons.
    /// </summary>
    public async Task<StowResult> StoreAsync(IReadOnlyList<string> files, string? studyUid = null, CancellationToken cancellationToken = default)
    {
        if (files.Count == 0) throw new ArgumentException("nothing to store", nameof(files));
        var content = new MultipartContent("related", "edu-" + Guid.NewGuid().ToString("N"));
        content.Headers.ContentType!.Parameters.Add(new NameValueHeaderValue("type", $"\"{Dicom}\""));
        var streams = new List<FileStream>();
        try
        {
            foreach (string file in files)
            {
                var stream = File.OpenRead(file);
                streams.Add(stream);
                var part = new StreamContent(stream);
                part.Headers.ContentType = new MediaTypeHeaderValue(Dicom);
                content.Add(part);
            }
            using var request = new HttpRequestMessage(HttpMethod.Post, studyUid is null ? "studies" : $"studies/{Uid(studyUid)}") { Content = content };
            request.Headers.Accept.ParseAdd(DicomJson);
            using var response = await SendAsync(request, "STOW-RS store", HttpCompletionOption.ResponseContentRead, cancellationToken, allowConflict: true);
            string json = await response.Content.ReadAsStringAsync(cancellationToken);
            return StowResult.Parse(json, response.StatusCode);
        }
        finally
        {
            foreach (var stream in streams) await stream.DisposeAsync();
            content.Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private async Task<IReadOnlyList<DicomJsonDataset>> SearchAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(DicomJson);
        using var response = await SendAsync(request, "QIDO-RS search", HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent) return [];
        try
        {
            return DicomJsonDataset.ParseArray(await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            throw new DicomWebException($"QIDO-RS search: the answer is not DICOM JSON ({e.Message})", response.StatusCode, e);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string operation, HttpCompletionOption completion,
        CancellationToken cancellationToken, bool allowConflict = false)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new DicomWebException($"{operation}: no answer from {_options.BaseUrl.GetLeftPart(UriPartial.Authority)} ({e.Message})", null, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DicomWebException($"{operation}: no answer within {_options.Timeout.TotalSeconds:0} s", null, e);
        }
        // STOW-RS answers 409 (none stored) and 202 (some stored) with a body that says why: the caller reads it
        if (response.IsSuccessStatusCode || (allowConflict && response.StatusCode == HttpStatusCode.Conflict)) return response;
        var status = response.StatusCode;
        response.Dispose();
        string hint = status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? " (check the credentials)" : "";
        throw new DicomWebException($"{operation}: the service answered {(int)status} {status}{hint}", status);
    }

    private static string QueryString(IEnumerable<KeyValuePair<string, string>> query)
    {
        string joined = string.Join('&', query.Select(kv => $"{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(kv.Value)}"));
        return joined.Length == 0 ? "" : "?" + joined;
    }

    /// <summary>A UID as a path segment: digits and dots only (PS3.5 9.1), so nothing else can reach the URL.</summary>
    private static string Uid(string uid)
    {
        if (uid.Length is 0 or > 64 || uid.Any(c => c is not ('.' or (>= '0' and <= '9'))))
            throw new ArgumentException($"'{uid}' is not a DICOM UID (digits and dots, at most 64)", nameof(uid));
        return uid;
    }

    // pooled connections and, with a CA file, trust in that CA only
    private static SocketsHttpHandler CreateHandler(DicomWebOptions options)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (options.CaCertificateFile is { } caFile)
        {
            var ca = X509Certificate2.CreateFromPemFile(caFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null) return false;
                if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false; // name mismatch
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }
        return handler;
    }
}
