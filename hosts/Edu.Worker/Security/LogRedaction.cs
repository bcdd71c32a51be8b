using System.Security.Cryptography;
using System.Text;

namespace Edu.Worker.Security;

/// <summary>Keeps patient identity out of logs: UIDs and names are logged as a short hash.</summary>
public static class LogRedaction
{
    /// <summary>The first 12 hex digits of the SHA-256 of <paramref name="value"/>; "-" for none.</summary>
    public static string Hash(string? value) =>
        string.IsNullOrEmpty(value) ? "-" : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..12];
}
