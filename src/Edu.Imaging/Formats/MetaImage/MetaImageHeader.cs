using System.Globalization;
using System.Text;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.MetaImage;

/// <summary>
/// A MetaImage text header ("Key = Value" lines, <c>ElementDataFile</c> last). TransformMatrix follows
/// ITK's MetaImageIO: its values are the image axes' direction vectors one after another
/// (TransformMatrix[i·N + j] = component j of axis i), i.e. ITK's direction matrix column by column.
/// </summary>
internal sealed class MetaImageHeader
{
    public const int MaxHeaderBytes = 1 << 16;

    public Dictionary<string, string> Fields { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Bytes of the header text including the newline after ElementDataFile.</summary>
    public int Length { get; private init; }

    private static readonly string[] ElementTypes =
        ["MET_UCHAR", "MET_CHAR", "MET_USHORT", "MET_SHORT", "MET_UINT", "MET_INT", "MET_ULONG", "MET_LONG", "MET_ULONG_LONG", "MET_LONG_LONG", "MET_FLOAT", "MET_DOUBLE"];

    /// <summary>The pixel type of a MET_ element type; MET_LONG/MET_ULONG are 32-bit as in MetaIO.</summary>
    public static PixelType? PixelTypeOf(string elementType) => elementType.ToUpperInvariant() switch
    {
        "MET_UCHAR" => PixelType.UInt8,
        "MET_CHAR" => PixelType.Int8,
        "MET_USHORT" => PixelType.UInt16,
        "MET_SHORT" => PixelType.Int16,
        "MET_UINT" or "MET_ULONG" => PixelType.UInt32,
        "MET_INT" or "MET_LONG" => PixelType.Int32,
        "MET_ULONG_LONG" => PixelType.UInt64,
        "MET_LONG_LONG" => PixelType.Int64,
        "MET_FLOAT" => PixelType.Float32,
        "MET_DOUBLE" => PixelType.Float64,
        _ => null,
    };

    /// <summary>The MET_ element type of a pixel type.</summary>
    public static string ElementTypeOf(PixelType type) => type switch
    {
        PixelType.UInt8 => "MET_UCHAR",
        PixelType.Int8 => "MET_CHAR",
        PixelType.UInt16 => "MET_USHORT",
        PixelType.Int16 => "MET_SHORT",
        PixelType.UInt32 => "MET_UINT",
        PixelType.Int32 => "MET_INT",
        PixelType.UInt64 => "MET_ULONG_LONG",
        PixelType.Int64 => "MET_LONG_LONG",
        PixelType.Float32 => "MET_FLOAT",
        _ => "MET_DOUBLE",
    };

    /// <summary>Whether bytes start like a MetaImage header.</summary>
    public static bool LooksLikeMetaImage(ReadOnlySpan<byte> head)
    {
        int i = 0;
        while (i < head.Length && head[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            i++;
        int start = i;
        while (i < head.Length && (char.IsAsciiLetterOrDigit((char)head[i]) || head[i] == '_'))
            i++;
        string key = Encoding.ASCII.GetString(head[start..i]);
        while (i < head.Length && head[i] is (byte)' ' or (byte)'\t')
            i++;
        return i < head.Length && head[i] == '='
            && key is "ObjectType" or "NDims" or "Comment" or "ObjectSubType" or "TransformType" or "Name" or "ID" or "ParentID";
    }

    /// <summary>Parses the header at the start of <paramref name="bytes"/>; the problem instead when it is not one.</summary>
    public static MetaImageHeader? Parse(ReadOnlySpan<byte> bytes, out string? problem)
    {
        problem = null;
        if (!LooksLikeMetaImage(bytes))
        {
            problem = "it does not start with MetaImage header fields (ObjectType = Image, NDims = …)";
            return null;
        }
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int pos = 0;
        while (pos < bytes.Length)
        {
            int nl = bytes[pos..].IndexOf((byte)'\n');
            if (nl < 0)
                break;
            string line = Encoding.ASCII.GetString(bytes.Slice(pos, nl)).TrimEnd('\r');
            pos += nl + 1;
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                continue;
            string key = line[..eq].Trim(), value = line[(eq + 1)..].Trim();
            fields[key] = value;
            if (key.Equals("ElementDataFile", StringComparison.OrdinalIgnoreCase))
            {
                var header = new MetaImageHeader { Length = pos };
                foreach (var kv in fields)
                    header.Fields[kv.Key] = kv.Value;
                return header;
            }
        }
        problem = bytes.Length >= MaxHeaderBytes
            ? $"no ElementDataFile line in the first {MaxHeaderBytes} bytes"
            : "the header has no ElementDataFile line (truncated?)";
        return null;
    }

    public string? Get(params string[] keys)
    {
        foreach (string k in keys)
        {
            if (Fields.TryGetValue(k, out string? v))
                return v;
        }
        return null;
    }

    /// <summary>Numbers of a field, or null when absent; the problem when present but not numbers.</summary>
    public double[]? Numbers(out string? problem, params string[] keys)
    {
        problem = null;
        string? v = Get(keys);
        if (v is null)
            return null;
        var parts = v.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var result = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]) || !double.IsFinite(result[i]))
            {
                problem = $"{keys[0]} = {v} is not a list of numbers";
                return null;
            }
        }
        return result;
    }

    public static bool IsTrue(string? v) => v is not null && (v.Equals("True", StringComparison.OrdinalIgnoreCase) || v == "1");

    public static IReadOnlyList<string> KnownElementTypes => ElementTypes;
}
