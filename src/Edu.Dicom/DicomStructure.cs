using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Edu.Abstractions.Errors;

namespace Edu.Dicom;

/// <summary>The image attributes of a DICOM file, as read by <see cref="DicomStructure.Validate(string)"/>.</summary>
/// <param name="TransferSyntaxUid">Transfer syntax (implicit VR LE when the file has no meta header).</param>
/// <param name="Rows">Rows (0028,0010), or null.</param>
/// <param name="Columns">Columns (0028,0011), or null.</param>
/// <param name="NumberOfFrames">Number of Frames (0028,0008), or null when absent.</param>
/// <param name="HasPixelData">Whether top-level Pixel Data (7FE0,0010) is present.</param>
/// <param name="PixelDataEncapsulated">Whether Pixel Data is encapsulated (compressed fragments).</param>
/// <param name="PixelDataLength">Byte length of native Pixel Data.</param>
/// <param name="Text">Top-level text attributes the series reader, header-only identification and the project's own
/// decoder need, keyed by tag, trimmed: UIDs, Modality, descriptions, Image Position/Orientation (Patient), Pixel
/// Spacing, Photometric Interpretation, Rescale Slope/Intercept, Spacing Between Slices, Grid Frame Offset Vector and
/// Dose Grid Scaling (present with an empty value when the element is empty).</param>
/// <param name="UnsignedShorts">Top-level image pixel attributes of VR US, keyed by tag (Rows, Columns, Bits
/// Allocated/Stored, High Bit, Pixel Representation, Samples per Pixel, Planar Configuration).</param>
public sealed record DicomImageAttributes(
    string TransferSyntaxUid, int? Rows, int? Columns, int? NumberOfFrames,
    bool HasPixelData, bool PixelDataEncapsulated, long PixelDataLength,
    IReadOnlyDictionary<uint, string> Text, IReadOnlyDictionary<uint, int> UnsignedShorts)
{
    /// <summary>
    /// Raw top-level values a derived object (a DICOM SEG) copies or references: the patient and study modules,
    /// SOP class and instance, frame of reference, character set. Text values keep their bytes, so the source's
    /// character set travels with them.
    /// </summary>
    public IReadOnlyDictionary<uint, byte[]> ReferenceValues { get; init; } = new Dictionary<uint, byte[]>();

    /// <summary>
    /// Sample precision (bits) and signedness the first JPEG 2000 codestream declares (its SIZ marker, first component),
    /// or null for other pixel data. The data set's Pixel Representation may disagree; the data set wins.
    /// </summary>
    internal (int Precision, bool Signed)? CodestreamSample { get; init; }
}

/// <summary>
/// Walks a DICOM file's data elements in C# before GDCM sees it, and refuses what is structurally
/// broken (an element or item running past the end of the file, bad nesting, a truncated meta
/// header) or inconsistent in its image attributes. Debian's GDCM 3.0 is built with assertions on
/// and aborts the whole process on such files instead of failing; this check keeps a malformed file
/// a clean <see cref="InvalidInputException"/>.
/// </summary>
public static class DicomStructure
{
    private const string ImplicitLittle = "1.2.840.10008.1.2";
    private const string ExplicitBig = "1.2.840.10008.1.2.2";
    private const string Deflated = "1.2.840.10008.1.2.1.99";
    private const uint Undefined = 0xFFFFFFFF;
    private const int MaxDepth = 16;
    private const long MaxInflated = 1L << 31;

    // What GDCM 3.0 decodes; anything else (including a mangled UID) is refused before GDCM sees it.
    private static readonly HashSet<string> KnownSyntaxes =
    [
        "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    ];

    private static readonly HashSet<string> JpegSyntaxes =
        ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"];

    private static readonly HashSet<string> Jpeg2000Syntaxes = ["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"];

    private static readonly HashSet<string> KnownVrs =
    [
        "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW",
        "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV",
    ];

    private static readonly HashSet<string> LongVrs = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"];

    /// <summary>Checks <paramref name="path"/>; returns its image attributes or throws naming the problem.</summary>
    public static DicomImageAttributes Validate(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(path, $"cannot be read ({e.Message})");
        }
        return Validate(bytes, path);
    }

    /// <summary>Checks the bytes of a DICOM file; <paramref name="name"/> is used in error messages.</summary>
    public static DicomImageAttributes Validate(byte[] bytes, string name) => Parse(bytes, name).Attributes;

    /// <summary>
    /// Checks the bytes of a DICOM file as <see cref="Validate(byte[], string)"/> does, and also says where its pixel
    /// data lies (for the project's own decoder, <see cref="DicomManagedReader"/>).
    /// </summary>
    internal static (DicomImageAttributes Attributes, DicomPixelData Pixels) Parse(byte[] bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var walker = new Walker(name);
        int start = bytes.Length >= 132 && bytes.AsSpan(128, 4).SequenceEqual("DICM"u8) ? 132 : 0;
        string syntax = ImplicitLittle;
        int position = start;
        bool hasMeta = false;

        // File meta information: group 0002, always explicit VR little endian.
        if (position + 4 <= bytes.Length && BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(position)) == 0x0002)
        {
            var meta = new Reader(bytes, position, bytes.Length, explicitVr: true, bigEndian: false);
            while (meta.Position + 4 <= bytes.Length && meta.PeekGroup() == 0x0002)
            {
                var element = walker.ReadElement(ref meta, depth: 0);
                if (element.Length == Undefined)
                    throw walker.Fail("file meta information holds an element of undefined length");
                if (element.Tag == 0x00020000 && element.Length == 4)
                    walker.MetaGroupLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)element.ValueOffset));
                if (element.Tag == 0x00020010)
                    syntax = Encoding.ASCII.GetString(bytes, (int)element.ValueOffset, (int)element.Length).TrimEnd('\0', ' ');
                meta.Position += (int)element.Length;
            }
            if (walker.MetaGroupLength is uint groupLength && groupLength > 0)
            {
                // The group length must end exactly where the last meta element ends.
                long afterGroupLength = start + 12;
                if (afterGroupLength + groupLength != meta.Position)
                    throw walker.Fail($"file meta information group length {groupLength} does not match its elements");
            }
            position = meta.Position;
            hasMeta = true;
        }
        else if (start == 132)
        {
            throw walker.Fail("has the DICM prefix but no file meta information (group 0002)");
        }
        if (!hasMeta && (bytes.Length < 8 || BinaryPrimitives.ReadUInt16LittleEndian(bytes) is not (0x0008 or 0x0010)))
            throw walker.Fail("not a DICOM file: no DICM prefix, no file meta information, and no plausible first data element");
        if (hasMeta && !KnownSyntaxes.Contains(syntax))
            throw walker.Fail($"transfer syntax '{syntax}' is unknown or not supported");

        byte[] data = bytes;
        int end = bytes.Length;
        if (syntax == Deflated)
        {
            data = Inflate(bytes, position, walker);
            position = 0;
            end = data.Length;
        }

        // Without a meta header the encoding is guessed as GDCM does: a VR after the first tag means explicit.
        // A meta header that claims explicit VR over an implicit data set is tolerated, as GDCM and pydicom do.
        bool explicitVr = hasMeta ? syntax != ImplicitLittle && LooksExplicit(data, position) : LooksExplicit(data, position);
        var reader = new Reader(data, position, end, explicitVr, syntax == ExplicitBig);
        walker.WalkDataSet(ref reader, end, depth: 0, topLevel: true);
        var attributes = walker.Attributes(syntax);
        if (attributes.PixelDataEncapsulated && Jpeg2000Syntaxes.Contains(syntax) && Jpeg2000Sample(walker.FirstFragment.Span) is { } sample)
            attributes = attributes with { CodestreamSample = sample };
        CheckImageAttributes(attributes, walker);
        return (attributes, new DicomPixelData(data, syntax == ExplicitBig, walker.PixelVr, walker.PixelOffset, attributes.PixelDataLength, walker.Fragments));
    }

    private static bool LooksExplicit(byte[] b, int p) =>
        p + 6 > b.Length || KnownVrs.Contains(Encoding.ASCII.GetString(b, p + 4, 2));

    private static byte[] Inflate(byte[] bytes, int position, Walker walker)
    {
        try
        {
            using var input = new MemoryStream(bytes, position, bytes.Length - position);
            using var deflate = new DeflateStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[1 << 16];
            int read;
            while ((read = deflate.Read(buffer)) > 0)
            {
                if (output.Length + read > Math.Min(MaxInflated, 2000L * (bytes.Length + 1)))
                    throw walker.Fail("deflated data set expands beyond any plausible size");
                output.Write(buffer, 0, read);
            }
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw walker.Fail($"deflated data set is corrupt ({e.Message})");
        }
    }

    private static void CheckImageAttributes(DicomImageAttributes a, Walker w)
    {
        if (!a.HasPixelData) return; // refused later with the modality named
        if (a.Rows is not > 0 || a.Columns is not > 0)
            throw w.Fail($"image has Rows {Show(a.Rows)} and Columns {Show(a.Columns)}: both must be at least 1");
        var v = w.Values;
        int bitsAllocated = v.GetValueOrDefault(0x00280100u, -1);
        if (bitsAllocated is not (1 or 8 or 16 or 32 or 64))
            throw w.Fail($"Bits Allocated is {bitsAllocated}: must be 1, 8, 16, 32 or 64");
        if (a.PixelDataEncapsulated && bitsAllocated is not (8 or 16 or 32))
            throw w.Fail($"compressed pixel data with Bits Allocated {bitsAllocated} is not supported (8, 16 or 32)");
        int bitsStored = v.GetValueOrDefault(0x00280101u, bitsAllocated);
        if (bitsStored < 1 || bitsStored > bitsAllocated)
            throw w.Fail($"Bits Stored is {bitsStored} with Bits Allocated {bitsAllocated}");
        int highBit = v.GetValueOrDefault(0x00280102u, bitsStored - 1);
        if (highBit < bitsStored - 1 || highBit >= bitsAllocated)
            throw w.Fail($"High Bit is {highBit} with Bits Stored {bitsStored} and Bits Allocated {bitsAllocated}");
        int representation = v.GetValueOrDefault(0x00280103u, 0);
        if (representation is not (0 or 1))
            throw w.Fail($"Pixel Representation is {representation}: must be 0 or 1");
        if (bitsAllocated == 1 && representation != 0)
            throw w.Fail("1-bit pixel data cannot be signed (Pixel Representation 1)");
        int samples = v.GetValueOrDefault(0x00280002u, 1);
        if (samples is not (1 or 3))
            throw w.Fail($"Samples per Pixel is {samples}: only 1 and 3 are supported");
        if ((bitsAllocated == 8 || samples == 3) && bitsStored != bitsAllocated)
            throw w.Fail($"Bits Stored {bitsStored} with Bits Allocated {bitsAllocated} and {samples} samples per pixel is not a valid combination");
        int planar = v.GetValueOrDefault(0x00280006u, 0);
        if (planar is not (0 or 1))
            throw w.Fail($"Planar Configuration is {planar}: must be 0 or 1");
        if (a.NumberOfFrames is < 1 or > 1_000_000)
            throw w.Fail($"Number of Frames is {a.NumberOfFrames}");
        // Grid Frame Offset Vector without Number of Frames is a single-frame RT Dose (pydicom and dcmtk read it so);
        // GDCM aborts on it, so DicomFileReader hands it to DicomManagedReader instead.
        if (w.FramesUnparsable)
            throw w.Fail("Number of Frames (0028,0008) is not a number");
        string pi = w.PhotometricInterpretation;
        bool subsampled = pi is "YBR_FULL_422" or "YBR_PARTIAL_422";
        if (a.PixelDataEncapsulated)
            CheckCodestream(a, samples, w);
        else
        {
            long pixels = (long)a.Rows.Value * a.Columns.Value * (a.NumberOfFrames ?? 1);
            long stored = subsampled ? pixels * 2 : pixels * samples;
            long needed = bitsAllocated == 1 ? (stored + 7) / 8 : stored * (bitsAllocated / 8);
            if (a.PixelDataLength < needed)
                throw w.Fail($"pixel data is truncated: {a.PixelDataLength} bytes present, {a.Columns}×{a.Rows}×{a.NumberOfFrames ?? 1} × {samples} samples at {bitsAllocated} bits need {needed}");
        }
    }

    // The first compressed frame must describe the same image as the header; GDCM's codecs assert otherwise.
    private static void CheckCodestream(DicomImageAttributes a, int samples, Walker w)
    {
        var fragment = w.FirstFragment.Span;
        if (fragment.IsEmpty)
            throw w.Fail("encapsulated pixel data holds no fragment");
        (int Width, int Height, int Components)? found = null;
        if (JpegSyntaxes.Contains(a.TransferSyntaxUid)) found = JpegFrameHeader(fragment);
        else if (Jpeg2000Syntaxes.Contains(a.TransferSyntaxUid)) found = Jpeg2000Size(fragment);
        else return;
        if (found is not (int, int, int) f)
            throw w.Fail("compressed pixel data has no readable frame header");
        if (f.Width != a.Columns || f.Height != a.Rows || f.Components != samples)
            throw w.Fail($"compressed frame is {f.Width}×{f.Height} with {f.Components} component(s), the header says {a.Columns}×{a.Rows} with {samples}");
    }

    // JPEG / JPEG-LS: walk marker segments to the first SOF (C0–CF except C4, C8, CC) or JPEG-LS SOF55 (F7).
    private static (int, int, int)? JpegFrameHeader(ReadOnlySpan<byte> b)
    {
        int i = 0;
        while (i + 4 <= b.Length)
        {
            if (b[i] != 0xFF) return null;
            byte marker = b[i + 1];
            if (marker == 0xD8 || marker == 0xFF || marker is >= 0xD0 and <= 0xD7) { i += marker == 0xFF ? 1 : 2; continue; }
            int length = b[i + 2] << 8 | b[i + 3];
            bool sof = (marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC)) || marker == 0xF7;
            if (sof && i + 10 <= b.Length)
                return (b[i + 7] << 8 | b[i + 8], b[i + 5] << 8 | b[i + 6], b[i + 9]);
            if (length < 2) return null;
            i += 2 + length;
        }
        return null;
    }

    // JPEG 2000 SIZ, first component's Ssiz: bit 7 set for signed samples, low 7 bits the precision minus one.
    private static (int Precision, bool Signed)? Jpeg2000Sample(ReadOnlySpan<byte> b)
    {
        int soc = b.IndexOf([(byte)0xFF, (byte)0x4F, (byte)0xFF, (byte)0x51]);
        if (soc < 0 || soc + 4 + 39 > b.Length) return null;
        byte ssiz = b[soc + 4 + 38];
        return ((ssiz & 0x7F) + 1, (ssiz & 0x80) != 0);
    }

    // JPEG 2000 codestream: SOC (FF4F) then SIZ (FF51) with Xsiz, Ysiz, XOsiz, YOsiz, …, Csiz.
    private static (int, int, int)? Jpeg2000Size(ReadOnlySpan<byte> b)
    {
        int soc = b.IndexOf([(byte)0xFF, (byte)0x4F, (byte)0xFF, (byte)0x51]);
        if (soc < 0 || soc + 42 > b.Length) return null;
        var siz = b[(soc + 4)..];
        long x = BinaryPrimitives.ReadUInt32BigEndian(siz[4..]), y = BinaryPrimitives.ReadUInt32BigEndian(siz[8..]);
        long x0 = BinaryPrimitives.ReadUInt32BigEndian(siz[12..]), y0 = BinaryPrimitives.ReadUInt32BigEndian(siz[16..]);
        int components = BinaryPrimitives.ReadUInt16BigEndian(siz[36..]);
        long width = x - x0, height = y - y0;
        if (width is < 1 or > int.MaxValue || height is < 1 or > int.MaxValue) return null;
        return ((int)width, (int)height, components);
    }

    private static string Show(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "missing";

    private readonly record struct Element(uint Tag, string Vr, long Length, long ValueOffset);

    /// <summary>A cursor over the bytes with the data set's encoding.</summary>
    private struct Reader(byte[] data, int position, int end, bool explicitVr, bool bigEndian)
    {
        public readonly byte[] Data = data;
        public int Position = position;
        public readonly int End = end;
        public readonly bool ExplicitVr = explicitVr;
        public readonly bool BigEndian = bigEndian;

        public readonly ushort U16(int at) => BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(Data.AsSpan(at)) : BinaryPrimitives.ReadUInt16LittleEndian(Data.AsSpan(at));
        public readonly uint U32(int at) => BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(Data.AsSpan(at)) : BinaryPrimitives.ReadUInt32LittleEndian(Data.AsSpan(at));
        public readonly ushort PeekGroup() => U16(Position);
    }

    /// <summary>Walks elements and remembers the top-level image attributes.</summary>
    private sealed class Walker(string name)
    {
        private int _elements;
        private bool _hasPixelData, _encapsulated;
        private long _pixelLength;

        public Dictionary<uint, int> Values { get; } = [];
        public uint? MetaGroupLength { get; set; }
        public ReadOnlyMemory<byte> FirstFragment { get; private set; }
        public List<(int Offset, int Length)> Fragments { get; } = [];
        public int PixelOffset { get; private set; }
        public string PixelVr { get; private set; } = "";
        public bool FramesUnparsable { get; private set; }
        public string PhotometricInterpretation { get; private set; } = "";
        private int? _frames;
        private readonly Dictionary<uint, string> _text = [];
        private readonly Dictionary<uint, byte[]> _reference = [];

        public InvalidInputException Fail(string problem) => new(name, problem);

        public DicomImageAttributes Attributes(string syntax) =>
            new(syntax, Values.TryGetValue(0x00280010, out var r) ? r : null, Values.TryGetValue(0x00280011, out var c) ? c : null,
                _frames, _hasPixelData, _encapsulated, _pixelLength, _text, Values) { ReferenceValues = _reference };

        public Element ReadElement(ref Reader r, int depth)
        {
            if (++_elements > 1_000_000) throw Fail("more than a million data elements");
            if (r.Position + 8 > r.End) throw Fail($"truncated: a data element header at byte {r.Position} runs past the end");
            uint tag = (uint)r.U16(r.Position) << 16 | r.U16(r.Position + 2);
            string vr = "";
            long length;
            int header;
            bool isItemTag = (tag >> 16) == 0xFFFE;
            if (r.ExplicitVr && !isItemTag)
            {
                vr = Encoding.ASCII.GetString(r.Data, r.Position + 4, 2);
                if (!KnownVrs.Contains(vr))
                    throw Fail($"element ({tag >> 16:X4},{tag & 0xFFFF:X4}) at byte {r.Position} has an unknown VR '{vr}'");
                if (LongVrs.Contains(vr))
                {
                    if (r.Position + 12 > r.End) throw Fail($"truncated: element ({tag >> 16:X4},{tag & 0xFFFF:X4}) header runs past the end");
                    length = r.U32(r.Position + 8);
                    header = 12;
                }
                else
                {
                    length = r.U16(r.Position + 6);
                    header = 8;
                }
            }
            else
            {
                length = r.U32(r.Position + 4);
                header = 8;
            }
            long valueOffset = r.Position + header;
            if (length != Undefined && valueOffset + length > r.End)
                throw Fail($"truncated: element ({tag >> 16:X4},{tag & 0xFFFF:X4}) declares {length} bytes but only {r.End - valueOffset} remain");
            r.Position = (int)valueOffset;
            return new Element(tag, vr, length, valueOffset);
        }

        public void WalkDataSet(ref Reader r, int end, int depth, bool topLevel)
        {
            if (depth > MaxDepth) throw Fail($"sequences nested deeper than {MaxDepth}");
            while (r.Position < end)
            {
                if (r.Position + 8 > end)
                {
                    if (topLevel && r.Data.AsSpan(r.Position, end - r.Position).IndexOfAnyExcept((byte)0) < 0) return; // trailing padding
                    throw Fail($"truncated: {end - r.Position} stray bytes at the end of a data set");
                }
                var e = ReadElement(ref r, depth);
                if (e.Tag == 0xFFFEE00D) return; // item delimiter
                if (e.Tag == 0x7FE00010 && topLevel)
                {
                    _hasPixelData = true;
                    PixelVr = e.Vr;
                    PixelOffset = (int)e.ValueOffset;
                    if (e.Length == Undefined)
                    {
                        _encapsulated = true;
                        WalkFragments(ref r);
                    }
                    else
                    {
                        _pixelLength = e.Length;
                        r.Position += (int)e.Length;
                    }
                    continue;
                }
                if (e.Length == Undefined)
                {
                    WalkSequence(ref r, depth + 1);
                    continue;
                }
                if (topLevel) Remember(e, r);
                r.Position += (int)e.Length;
            }
        }

        private void WalkSequence(ref Reader r, int depth)
        {
            if (depth > MaxDepth) throw Fail($"sequences nested deeper than {MaxDepth}");
            while (true)
            {
                var item = ReadElement(ref r, depth);
                if (item.Tag == 0xFFFEE0DD) return; // sequence delimiter
                if (item.Tag != 0xFFFEE000) throw Fail($"sequence holds ({item.Tag >> 16:X4},{item.Tag & 0xFFFF:X4}) where an item was expected");
                if (item.Length == Undefined)
                    WalkDataSet(ref r, r.End, depth + 1, topLevel: false);
                else
                    r.Position += (int)item.Length;
            }
        }

        private void WalkFragments(ref Reader r)
        {
            // Item 0 is the Basic Offset Table; item 1 starts the first frame.
            for (int index = 0; ; index++)
            {
                var item = ReadElement(ref r, 0);
                if (item.Tag == 0xFFFEE0DD) return;
                if (item.Tag != 0xFFFEE000 || item.Length == Undefined)
                    throw Fail("encapsulated pixel data is malformed (a fragment is not a defined-length item)");
                if (index == 1) FirstFragment = r.Data.AsMemory((int)item.ValueOffset, (int)item.Length);
                if (index >= 1) Fragments.Add(((int)item.ValueOffset, (int)item.Length));
                r.Position += (int)item.Length;
            }
        }

        private void Remember(Element e, Reader r)
        {
            if (DicomReferenceTags.All.Contains(e.Tag) && e.Length <= 1024)
                _reference[e.Tag] = r.Data.AsSpan((int)e.ValueOffset, (int)e.Length).ToArray();
            switch (e.Tag)
            {
                case 0x00280010 or 0x00280011 or 0x00280100 or 0x00280101 or 0x00280102 or 0x00280103 or 0x00280002 or 0x00280006:
                    if (e.Length >= 2) Values[e.Tag] = r.U16((int)e.ValueOffset);
                    break;
                case 0x00280008:
                    string text = Encoding.ASCII.GetString(r.Data, (int)e.ValueOffset, (int)e.Length).Trim('\0', ' ');
                    if (text.Length == 0) break;
                    if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int frames)) _frames = frames;
                    else FramesUnparsable = true;
                    break;
                case 0x00280004:
                    PhotometricInterpretation = Encoding.ASCII.GetString(r.Data, (int)e.ValueOffset, (int)e.Length).Trim('\0', ' ');
                    _text[e.Tag] = PhotometricInterpretation;
                    break;
                case 0x0020000E or 0x0020000D or 0x00080016 or 0x00080018 or 0x00080060 or 0x0008103E or 0x00200011 or 0x00180015
                    or 0x00200032 or 0x00200037 or 0x00280030 or 0x00281052 or 0x00281053 or 0x00180088 or 0x3004000C or 0x3004000E:
                    _text[e.Tag] = Encoding.ASCII.GetString(r.Data, (int)e.ValueOffset, (int)e.Length).Trim('\0', ' ');
                    break;
            }
        }
    }
}
