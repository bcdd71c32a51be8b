using System.Net;
using Edu.Abstractions.Errors;

namespace Edu.Dicom.Web;

/// <summary>
/// A DICOMweb request that failed: the service answered with an error status, or its answer was not what the standard
/// says. The message names the operation and the status, never a patient identifier.
/// </summary>
public sealed class DicomWebException : EduException
{
    /// <summary>Creates the exception.</summary>
    public DicomWebException(string message, HttpStatusCode? status = null, Exception? inner = null) : base(message, inner) => Status = status;

    /// <summary>The HTTP status, when the service answered.</summary>
    public HttpStatusCode? Status { get; }

    /// <summary>
    /// Whether trying again later may succeed: no answer at all, a timeout, 408, 429 or a 5xx status (the service
    /// busy or down); a 4xx other than those means the request itself is wrong.
    /// </summary>
    public bool IsTransient => Status is null || Status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)Status >= 500;
}
