using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Edu.Dicom;

/// <summary>
/// A data set being built for writing, encoded as explicit VR little endian: elements kept in tag order,
/// sequences and items of undefined length (delimited), values padded to even length as PS3.5 requires
/// (UI with NUL, text with space, binary with zero).
/// </summary>
internal sealed class DicomDataSet
{
    private readonly SortedDictionary<uint, (string Vr, byte[]? Value, IReadOnlyList<DicomDataSet>? Items)> _elements = [];

    // VRs with a 4-byte length after two reserved bytes (PS3.5 Table 7.1-1).
    private static readonly HashSet<string> LongVrs = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"];

    /// <summary>A text value (several values joined with a backslash).</summary>
    public DicomDataSet Text(uint tag, string vr, params string[] values) => Bytes(tag, vr, Encoding.ASCII.GetBytes(string.Join('\\', values)));

    /// <summary>
    /// Free text a person reads (LO, SH, PN) in <paramref name="encoding"/> (the data set's Specific Character Set): one
    /// value, so a backslash becomes '/', cut to <paramref name="maxChars"/> characters as the VR allows.
    /// </summary>
    public DicomDataSet Words(uint tag, string vr, string value, Encoding encoding, int maxChars = 64)
    {
        string text = value.Replace('\\', '/');
        if (text.Length > maxChars) text = text[..maxChars];
        return Bytes(tag, vr, encoding.GetBytes(text));
    }

    /// <summary>Decimal strings, each at most 16 characters as DS allows.</summary>
    public DicomDataSet Decimals(uint tag, params double[] values) => Text(tag, "DS", [.. values.Select(DecimalString)]);

    /// <summary>An integer string.</summary>
    public DicomDataSet Integer(uint tag, long value) => Text(tag, "IS", value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Unsigned shorts (US).</summary>
    public DicomDataSet UnsignedShorts(uint tag, params ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), values[i]);
        return Bytes(tag, "US", bytes);
    }

    /// <summary>Unsigned longs (UL).</summary>
    public DicomDataSet UnsignedLongs(uint tag, params uint[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4 * i), values[i]);
        return Bytes(tag, "UL", bytes);
    }

    /// <summary>An attribute tag value (AT): group then element.</summary>
    public DicomDataSet AttributeTag(uint tag, uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)(value >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), (ushort)value);
        return Bytes(tag, "AT", bytes);
    }

    /// <summary>A value as raw bytes (copied from a source file: its character set goes with it).</summary>
    public DicomDataSet Bytes(uint tag, string vr, byte[] value)
    {
        _elements[tag] = (vr, value, null);
        return this;
    }

    /// <summary>A sequence of items (an empty list is an empty, present sequence).</summary>
    public DicomDataSet Sequence(uint tag, params IReadOnlyList<DicomDataSet> items)
    {
        _elements[tag] = ("SQ", null, items);
        return this;
    }

    /// <summary>
    /// A sequence of one code item: code value (as Long Code Value (0008,0119) when over SH's 16 characters), coding
    /// scheme designator and code meaning (in <paramref name="encoding"/>; ASCII when not given).
    /// </summary>
    public DicomDataSet Code(uint tag, DicomCode code, Encoding? encoding = null)
    {
        var item = new DicomDataSet();
        if (code.Value.Length > 16) item.Bytes(0x00080119, "UC", Encoding.ASCII.GetBytes(code.Value));
        else item.Text(0x00080100, "SH", code.Value);
        item.Text(0x00080102, "SH", code.Scheme).Words(0x00080104, "LO", code.Meaning, encoding ?? Encoding.ASCII);
        return Sequence(tag, item);
    }

    /// <summary>Writes the elements in tag order.</summary>
    public void WriteTo(Stream output)
    {
        Span<byte> header = stackalloc byte[12];
        foreach (var (tag, (vr, value, items)) in _elements)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)(tag >> 16));
            BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)tag);
            header[4] = (byte)vr[0];
            header[5] = (byte)vr[1];
            if (items is not null)
            {
                header[6] = header[7] = 0;
                BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 0xFFFFFFFF);
                output.Write(header);
                foreach (var item in items)
                {
                    WriteItemTag(output, 0xE000, 0xFFFFFFFF);
                    item.WriteTo(output);
                    WriteItemTag(output, 0xE00D, 0);
                }
                WriteItemTag(output, 0xE0DD, 0);
                continue;
            }
            byte[] v = value!;
            int length = v.Length + (v.Length & 1);
            if (LongVrs.Contains(vr))
            {
                header[6] = header[7] = 0;
                BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)length);
                output.Write(header);
            }
            else
            {
                if (length > ushort.MaxValue) throw new InvalidOperationException($"({tag >> 16:X4},{tag & 0xFFFF:X4}) {vr} value of {length} bytes is too long");
                BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)length);
                output.Write(header[..8]);
            }
            output.Write(v);
            if ((v.Length & 1) == 1) output.WriteByte(vr is "UI" or "OB" or "UN" ? (byte)0 : (byte)' ');
        }
    }

    /// <summary>The encoded length of the elements (for a group length).</summary>
    public long EncodedLength()
    {
        using var counter = new MemoryStream();
        WriteTo(counter);
        return counter.Length;
    }

    private static void WriteItemTag(Stream output, ushort element, uint length)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(b, 0xFFFE);
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], element);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], length);
        output.Write(b);
    }

    // A DS value is at most 16 characters: as many decimals as fit.
    internal static string DecimalString(double value)
    {
        for (int decimals = 10; ; decimals--)
        {
            string text = Math.Round(value, decimals).ToString("0." + new string('#', Math.Max(decimals, 1)), CultureInfo.InvariantCulture);
            if (text == "-0") text = "0";
            if (text.Length <= 16 || decimals == 0) return text;
        }
    }
}
