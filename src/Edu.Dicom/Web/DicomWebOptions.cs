namespace Edu.Dicom.Web;

/// <summary>
/// Where a DICOMweb service is and how to authenticate to it: the base URL of its QIDO-RS, WADO-RS and STOW-RS
/// endpoints (Orthanc: <c>http://host:8042/dicom-web/</c>), HTTP basic or bearer authentication, and TLS.
/// </summary>
public sealed record DicomWebOptions
{
    /// <summary>Base URL of the service; the study, series and instance paths are appended to it.</summary>
    public required Uri BaseUrl { get; init; }

    /// <summary>User name for HTTP basic authentication (with <see cref="Password"/>).</summary>
    public string? Username { get; init; }

    /// <summary>Password for HTTP basic authentication.</summary>
    public string? Password { get; init; }

    /// <summary>Bearer token (OAuth 2 access token); takes precedence over basic authentication.</summary>
    public string? BearerToken { get; init; }

    /// <summary>
    /// A PEM file holding the certificate authority that signed the server's certificate, for a hospital's private CA;
    /// null: the system's trust store.
    /// </summary>
    public string? CaCertificateFile { get; init; }

    /// <summary>Time limit of one request, transfer included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Largest single DICOM part accepted from WADO-RS; a larger one fails the retrieval instead of filling the disk.</summary>
    public long MaxInstanceBytes { get; init; } = 2L << 30;
}
