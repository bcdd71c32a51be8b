using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Edu.Abstractions.Logging;

/// <summary>Keeps patient identity out of logs: UIDs and names are logged as a short hash.</summary>
public static partial class LogRedaction
{
    /// <summary>The first 12 hex digits of the SHA-256 of <paramref name="value"/>; "-" for none.</summary>
    public static string Hash(string? value) =>
        string.IsNullOrEmpty(value) ? "-" : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..12];

    /// <summary>
    /// <paramref name="text"/> with every DICOM UID in it (study, series, instance) replaced by <c>uid:</c> and its
    /// <see cref="Hash"/>, so that a failure can be matched with the series hash of other log lines. The standard's own
    /// UIDs (<c>1.2.840.10008.…</c>: transfer syntaxes, SOP classes) identify nobody and stay.
    /// </summary>
    public static string Uids(string? text) =>
        string.IsNullOrEmpty(text) ? "" : UidPattern().Replace(text, m => m.Value.StartsWith("1.2.840.10008.", StringComparison.Ordinal) ? m.Value : "uid:" + Hash(m.Value));

    /// <summary>
    /// An error for the log: what the input was only as a hash (uploads keep the client's file names, which may be
    /// a UID or a patient's name), the problem with its UIDs hashed.
    /// </summary>
    public static string Error(string input, string problem) => $"input {Hash(input)}: {Uids(problem)}";

    /// <summary><paramref name="text"/> with each of <paramref name="names"/> (uploaded file names) replaced by <c>file:</c> and its <see cref="Hash"/>.</summary>
    public static string Names(string text, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(names);
        foreach (string name in names.Where(n => n.Length > 0).OrderByDescending(n => n.Length)) // a name inside a longer one stays whole
            text = text.Replace(name, "file:" + Hash(name), StringComparison.Ordinal);
        return text;
    }

    // a UID: a root arc 0, 1 or 2 (not the tail of a dotted number such as the IP address 127.0.0.1), then at least two
    // more numeric components (2.25.<uuid> has two), anywhere in the
    // text, also inside a file name such as IMG_1.2.826.0.1.3680043.2.1125.1.dcm
    [GeneratedRegex(@"(?<![0-9]|[0-9]\.)[0-2](?:\.[0-9]+){2,}(?![0-9])")]
    private static partial Regex UidPattern();
}
