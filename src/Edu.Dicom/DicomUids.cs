using System.Globalization;
using System.Numerics;

namespace Edu.Dicom;

/// <summary>New DICOM UIDs under the UUID-derived root 2.25 (PS3.5 B.2): no registered root is needed and they never collide.</summary>
public static class DicomUids
{
    /// <summary>EDU.Framework's Implementation Class UID (0002,0012), fixed: 2.25 and one UUID drawn once.</summary>
    public const string ImplementationClassUid = "2.25.168201493537773110783822019529916069522";

    /// <summary>A new UID: "2.25." and the decimal value of a random (version 4) UUID; at most 44 characters.</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(bytes, bigEndian: true, out _);
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        return "2.25." + value.ToString(CultureInfo.InvariantCulture);
    }
}
