using System.Net;
using Edu.Dicom.Web;

namespace Edu.Dicom.Tests.Web;

/// <summary>The DICOMweb client against a real Orthanc on loopback: STOW-RS, QIDO-RS, WADO-RS, authentication, errors.</summary>
public sealed class DicomWebClientTests : IClassFixture<DicomWebClientTests.Server>
{
    public sealed class Server : IDisposable
    {
        public OrthancServer Orthanc { get; } = new();

        public void Dispose() => Orthanc.Dispose();
    }

    private const uint StudyUid = 0x0020000D, SeriesUid = 0x0020000E, Modality = 0x00080060, SopInstanceUid = 0x00080018, Instances = 0x00201209;
    private readonly OrthancServer _orthanc;

    public DicomWebClientTests(Server server) => _orthanc = server.Orthanc;

    private DicomWebClient Client(string password = OrthancServer.Password) =>
        new(new DicomWebOptions { BaseUrl = _orthanc.DicomWebUrl, Username = OrthancServer.User, Password = password });

    private static string[] CtSeries => Directory.GetFiles(TestFiles.Series("98892001", "CT5N")).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task A_series_stored_with_STOW_is_found_with_QIDO_and_comes_back_byte_for_byte_with_WADO()
    {
        using var client = Client();
        var stored = await client.StoreAsync(CtSeries);
        Assert.Equal(HttpStatusCode.OK, stored.Status);
        Assert.Equal(CtSeries.Length, stored.Stored.Count);
        Assert.Empty(stored.Failed);

        var found = await client.SearchSeriesAsync([new("Modality", "CT"), new("includefield", "NumberOfSeriesRelatedInstances")]);
        var series = Assert.Single(found, s => s.GetInt(Instances) == CtSeries.Length);
        Assert.Equal("CT", series.GetString(Modality));
        string study = series.GetString(StudyUid)!, seriesUid = series.GetString(SeriesUid)!;

        var instances = await client.SearchInstancesAsync(study, seriesUid);
        Assert.Equal(stored.Stored.Order(), instances.Select(i => i.GetString(SopInstanceUid)!).Order());

        string folder = Directory.CreateTempSubdirectory("edu-wado-").FullName;
        try
        {
            var files = await client.RetrieveSeriesAsync(study, seriesUid, folder);
            Assert.Equal(CtSeries.Length, files.Count);
            var originals = CtSeries.Select(f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))).Order();
            var retrieved = files.Select(f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))).Order();
            Assert.Equal(originals, retrieved);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public async Task A_query_that_matches_nothing_is_an_empty_list()
    {
        using var client = Client();
        Assert.Empty(await client.SearchSeriesAsync([new("SeriesDescription", "no such series *")]));
    }

    [Fact]
    public async Task Storing_into_another_study_than_the_files_say_is_refused_per_instance()
    {
        using var client = Client();
        var result = await client.StoreAsync([TestFiles.Dicom("CT_small.dcm")], studyUid: "1.2.3.4.5.6.7.8.9");
        Assert.Empty(result.Stored);
        Assert.NotEmpty(result.Failed);
    }

    [Fact]
    public async Task Wrong_credentials_are_a_clear_permanent_error()
    {
        using var client = Client(password: "wrong");
        var e = await Assert.ThrowsAsync<DicomWebException>(() => client.SearchSeriesAsync([]));
        Assert.Equal(HttpStatusCode.Unauthorized, e.Status);
        Assert.False(e.IsTransient);
        Assert.Contains("credentials", e.Message);
    }

    [Fact]
    public async Task A_service_that_is_not_there_is_a_transient_error()
    {
        using var client = new DicomWebClient(new DicomWebOptions { BaseUrl = new Uri("http://127.0.0.1:9/dicom-web/"), Timeout = TimeSpan.FromSeconds(5) });
        var e = await Assert.ThrowsAsync<DicomWebException>(() => client.SearchSeriesAsync([]));
        Assert.Null(e.Status);
        Assert.True(e.IsTransient);
    }

    [Fact]
    public async Task A_UID_with_other_characters_than_digits_and_dots_never_reaches_the_URL()
    {
        using var client = Client();
        await Assert.ThrowsAsync<ArgumentException>(() => client.SearchInstancesAsync("1.2/../../system", "1.2"));
    }
}
