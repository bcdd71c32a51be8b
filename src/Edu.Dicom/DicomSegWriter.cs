using System.Globalization;
using System.Reflection;
using System.Runtime.Intrinsics;
using System.Text;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Dicom;

/// <summary>
/// Writes a label volume as a DICOM Segmentation (SEG, binary, PS3.3 A.51): a new series in the source's study
/// and frame of reference that a PACS files beside the images and viewers draw over them. One segment per label
/// (background excluded), one 1-bit frame per segment and source slice that holds it (a segment found nowhere keeps
/// one empty frame, so "nothing found" is stated), each frame referencing its source image. The patient and study
/// attributes are copied byte for byte from the source (with its character set); nothing is logged.
/// The labels must be in the source's own geometry, as the predictor returns them.
/// </summary>
public static class DicomSegWriter
{
    /// <summary>Segmentation Storage.</summary>
    public const string SegmentationStorage = "1.2.840.10008.5.1.4.1.1.66.4";

    private const string ExplicitVrLittleEndian = "1.2.840.10008.1.2.1";
    private const uint ReferencedSegmentNumber = 0x0062000B, SegmentIdentificationSequence = 0x0062000A;
    private const uint ImagePositionPatient = 0x00200032, PlanePositionSequence = 0x00209113;

    private static readonly string FrameworkVersion =
        typeof(DicomSegWriter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    /// <summary>
    /// Writes the SEG of <paramref name="labels"/>, read from <paramref name="source"/> (the DICOM file or series folder the
    /// image was read from, with the same <paramref name="seriesUid"/>), to <paramref name="output"/>.
    /// </summary>
    public static void Write(ImageVolume labels, string source, string? seriesUid, Stream output, DicomSegOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        if (labels.Channels != 1)
            throw new InvalidInputException(source, $"a label volume has one channel, this one has {labels.Channels}");

        IReadOnlyList<(string Path, DicomImageAttributes Attributes)> files;
        if (Directory.Exists(source))
        {
            files = DicomSeriesReader.ReadSources(source, seriesUid, cancellationToken);
        }
        else
        {
            if (!File.Exists(source)) throw new InvalidInputException(source, "no such file or folder");
            files = [(source, DicomStructure.Validate(source))];
        }
        var frames = SourceFrames(labels, source, files);
        var (dataSet, instanceUid) = Build(labels, frames, files, options, cancellationToken);
        WritePart10(dataSet, instanceUid, output);
    }

    /// <summary>Where label slice z came from: the file, its frame number (1-based, 0 for a single-frame file), its position.</summary>
    private sealed record SourceFrame(string SopClassUid, string SopInstanceUid, int FrameNumber, double[]? Position);

    private static List<SourceFrame> SourceFrames(ImageVolume labels, string source, IReadOnlyList<(string Path, DicomImageAttributes Attributes)> files)
    {
        var first = files[0].Attributes;
        var size = labels.Geometry.Size;
        if (first.Columns != size.X || first.Rows != size.Y)
            throw new InvalidInputException(source, $"the labels are {size.X}×{size.Y} but the source images are {first.Columns}×{first.Rows}: a SEG needs the labels in the source geometry");
        string Uid(DicomImageAttributes a, uint tag, string what) => TextValue(a, tag) is { Length: > 0 } v ? v
            : throw new InvalidInputException(source, $"a source image has no {what}: it cannot be referenced");
        var result = new List<SourceFrame>(size.Z);
        if (files.Count == 1)
        {
            int count = first.NumberOfFrames ?? 1;
            if (count != size.Z)
                throw new InvalidInputException(source, $"the labels have {size.Z} slices but the source has {count} frame(s)");
            bool hasFrameOfReference = TextValue(first, DicomReferenceTags.FrameOfReferenceUid).Length > 0;
            if (count > 1 && !hasFrameOfReference)
                throw new InvalidInputException(source, "a multi-frame source without a frame of reference cannot be described by a SEG here (no plane positions)");
            for (int z = 0; z < count; z++)
                result.Add(new(Uid(first, DicomReferenceTags.SopClassUid, "SOP Class UID"), Uid(first, DicomReferenceTags.SopInstanceUid, "SOP Instance UID"),
                    count > 1 ? z + 1 : 0, hasFrameOfReference ? World(labels.Geometry, z) : null));
            return result;
        }
        if (files.Count != size.Z)
            throw new InvalidInputException(source, $"the labels have {size.Z} slices but the series has {files.Count} images");
        double tolerance = Math.Max(1e-3, 0.25 * Math.Abs(labels.Geometry.Spacing[2]));
        for (int z = 0; z < files.Count; z++)
        {
            var a = files[z].Attributes;
            double[] expected = World(labels.Geometry, z);
            double[]? actual = DicomSeriesReader.ParseVector(TextValue(a, DicomReferenceTags.ImagePositionPatient), 3);
            if (actual is null || Math.Sqrt(actual.Zip(expected, (p, q) => (p - q) * (p - q)).Sum()) > tolerance)
                throw new InvalidInputException(source, $"label slice {z} lies at ({string.Join(", ", expected.Select(v => v.ToString("0.###", CultureInfo.InvariantCulture)))}) but source image {Path.GetFileName(files[z].Path)} does not: the labels are not in this series' geometry");
            result.Add(new(Uid(a, DicomReferenceTags.SopClassUid, "SOP Class UID"), Uid(a, DicomReferenceTags.SopInstanceUid, "SOP Instance UID"), 0, actual));
        }
        return result;
    }

    private static (DicomDataSet DataSet, string InstanceUid) Build(ImageVolume labels, List<SourceFrame> frames, IReadOnlyList<(string Path, DicomImageAttributes Attributes)> files,
        DicomSegOptions options, CancellationToken cancellationToken)
    {
        // Segments: every named label but the background, in label order.
        var segments = options.LabelNames.Where(p => p.Key > 0).OrderBy(p => p.Key).ToList();
        if (segments.Count == 0)
            throw new InvalidInputException("labels", "the model names no foreground label: a SEG needs at least one segment");
        if (segments.Count > ushort.MaxValue) throw new InvalidInputException("labels", "more than 65535 labels");
        var source = files[0].Attributes;
        bool spatial = TextValue(source, DicomReferenceTags.FrameOfReferenceUid).Length > 0;
        var frameList = PlanFrames(labels, segments);
        string instanceUid = DicomUids.New();
        var (encoding, charset) = TextEncoding(source, [options.SeriesDescription, options.AlgorithmName, options.AlgorithmVersion,
            options.DeviceSerialNumber, .. segments.Select(p => p.Value), .. options.Codes.Values.SelectMany(c => new[] { c.Category.Meaning, c.Type.Meaning })]);

        var ds = new DicomDataSet();
        if (charset is not null) ds.Bytes(DicomReferenceTags.SpecificCharacterSet, "CS", charset);
        AddInstanceSeriesPatientAndStudy(ds, source, files[0].Path, options, instanceUid, spatial, encoding);
        AddReferencesAndDimensions(ds, frames, source, spatial);
        var g = labels.Geometry;
        ds.UnsignedShorts(0x00280002, 1).Text(0x00280004, "CS", "MONOCHROME2").Integer(0x00280008, frameList.Count)
          .UnsignedShorts(0x00280010, checked((ushort)g.Size.Y)).UnsignedShorts(0x00280011, checked((ushort)g.Size.X))
          .UnsignedShorts(0x00280100, 1).UnsignedShorts(0x00280101, 1).UnsignedShorts(0x00280102, 0).UnsignedShorts(0x00280103, 0)
          .Text(0x00282110, "CS", "00")
          .Text(0x00620001, "CS", "BINARY")
          .Text(0x00620013, "CS", "NO");
        ds.Sequence(0x00620002, segments.Select((p, s) =>
        {
            var (category, type) = options.Codes.TryGetValue(p.Key, out var codes) ? codes : (options.DefaultCategory, options.DefaultType);
            return new DicomDataSet().Code(0x00620003, category, encoding).UnsignedShorts(0x00620004, (ushort)(s + 1))
                .Words(0x00620005, "LO", p.Value, encoding).Text(0x00620008, "CS", "AUTOMATIC")
                .Words(0x00620009, "LO", options.AlgorithmName, encoding).Code(0x0062000F, type, encoding);
        }).ToList());
        AddFunctionalGroups(ds, g, frames, frameList, spatial, source);
        ds.Bytes(0x7FE00010, "OB", PixelData(labels, segments, frameList, cancellationToken));
        return (ds, instanceUid);
    }

    // The frames: for each segment the slices that hold it; a segment found nowhere keeps one empty frame, which says so.
    private static List<(int Segment, int Z)> PlanFrames(ImageVolume labels, List<KeyValuePair<int, string>> segments)
    {
        int perSlice = labels.Geometry.Size.X * labels.Geometry.Size.Y;
        var frameList = new List<(int Segment, int Z)>();
        for (int s = 0; s < segments.Count; s++)
        {
            int before = frameList.Count;
            for (int z = 0; z < labels.Geometry.Size.Z; z++)
                if (labels.Voxels.AsSpan(z * perSlice, perSlice).Contains(segments[s].Key)) frameList.Add((s, z));
            if (frameList.Count == before) frameList.Add((s, 0));
        }
        return frameList;
    }

    // SOP common, equipment, the new series, and the source's patient, study and frame of reference.
    private static void AddInstanceSeriesPatientAndStudy(DicomDataSet ds, DicomImageAttributes source, string sourcePath, DicomSegOptions options,
        string instanceUid, bool spatial, Encoding encoding)
    {
        var now = DateTime.Now;
        string date = now.ToString("yyyyMMdd", CultureInfo.InvariantCulture), time = now.ToString("HHmmss", CultureInfo.InvariantCulture);
        string algorithm = $"{options.AlgorithmName} {options.AlgorithmVersion}".Trim();
        ds.Text(0x00080008, "CS", "DERIVED", "PRIMARY")
          .Text(0x00080012, "DA", date).Text(0x00080013, "TM", time)
          .Text(0x00080016, "UI", SegmentationStorage).Text(0x00080018, "UI", instanceUid)
          .Text(0x00080023, "DA", date).Text(0x00080033, "TM", time)
          .Text(0x00080060, "CS", "SEG")
          .Text(0x00080070, "LO", "EDU.Framework")
          .Words(0x0008103E, "LO", options.SeriesDescription, encoding)
          .Words(0x00081090, "LO", options.AlgorithmName, encoding)
          .Words(0x00181000, "LO", options.DeviceSerialNumber, encoding)
          .Bytes(0x00181020, "LO", [.. Encoding.ASCII.GetBytes($"EDU.Framework {FrameworkVersion}\\"), .. encoding.GetBytes(Clean(algorithm, 64))])
          .Text(0x0020000E, "UI", DicomUids.New())
          .Integer(0x00200011, options.SeriesNumber)
          .Integer(0x00200013, 1)
          .Text(0x00700080, "CS", "EDU_SEGMENTATION").Words(0x00700081, "LO", algorithm, encoding).Text(0x00700084, "PN");
        byte[] Copied(uint tag) => source.ReferenceValues.TryGetValue(tag, out var value) ? value : [];
        foreach (var (tag, vr) in DicomReferenceTags.PatientAndStudy)
            ds.Bytes(tag, vr, Copied(tag));
        ds.Text(0x0020000D, "UI", TextValue(source, DicomReferenceTags.StudyInstanceUid) is { Length: > 0 } study ? study
            : throw new InvalidInputException(sourcePath, "has no Study Instance UID: a SEG must join the source's study"));
        if (spatial)
        {
            ds.Text(0x00200052, "UI", TextValue(source, DicomReferenceTags.FrameOfReferenceUid));
            ds.Bytes(DicomReferenceTags.PositionReferenceIndicator, "LO", Copied(DicomReferenceTags.PositionReferenceIndicator));
        }
        else
        {
            // Without a patient coordinate system the rows and columns are described by Patient Orientation (type 2C).
            ds.Bytes(DicomReferenceTags.PatientOrientation, "CS", Copied(DicomReferenceTags.PatientOrientation));
        }
    }

    // Common Instance Reference (the source series and every instance a frame derives from) and the multi-frame
    // dimensions: segment number, then (with a frame of reference) the plane position.
    private static void AddReferencesAndDimensions(DicomDataSet ds, List<SourceFrame> frames, DicomImageAttributes source, bool spatial)
    {
        var instances = frames.Select(f => (f.SopClassUid, f.SopInstanceUid)).Distinct().Select(r =>
            new DicomDataSet().Text(0x00081150, "UI", r.SopClassUid).Text(0x00081155, "UI", r.SopInstanceUid)).ToList();
        ds.Sequence(0x00081115, new DicomDataSet().Sequence(0x0008114A, instances)
            .Text(0x0020000E, "UI", TextValue(source, DicomReferenceTags.SeriesInstanceUid)));

        string dimensionUid = DicomUids.New();
        ds.Sequence(0x00209221, new DicomDataSet().Text(0x00209164, "UI", dimensionUid));
        var dimensions = new List<DicomDataSet>
        {
            new DicomDataSet().Text(0x00209164, "UI", dimensionUid).AttributeTag(0x00209165, ReferencedSegmentNumber)
                .AttributeTag(0x00209167, SegmentIdentificationSequence).Text(0x00209421, "LO", "ReferencedSegmentNumber"),
        };
        if (spatial)
            dimensions.Add(new DicomDataSet().Text(0x00209164, "UI", dimensionUid).AttributeTag(0x00209165, ImagePositionPatient)
                .AttributeTag(0x00209167, PlanePositionSequence).Text(0x00209421, "LO", "ImagePositionPatient"));
        ds.Sequence(0x00209222, dimensions);
    }

    // Shared groups (orientation and pixel measures hold for every frame) and one per-frame group per frame: its source
    // image, its dimension index, its segment and its plane position.
    private static void AddFunctionalGroups(DicomDataSet ds, ImageGeometry g, List<SourceFrame> frames, List<(int Segment, int Z)> frameList, bool spatial,
        DicomImageAttributes source)
    {
        var shared = new DicomDataSet();
        if (spatial)
        {
            var d = g.Direction;
            shared.Sequence(0x00209116, new DicomDataSet().Decimals(0x00200037, d[0], d[3], d[6], d[1], d[4], d[7]));
            // the source's own slice thickness; without one, a stack's spacing (contiguous slices), or none for one image
            var measures = new DicomDataSet().Decimals(0x00280030, g.Spacing[1], g.Spacing[0]);
            if (TextValue(source, DicomReferenceTags.SliceThickness) is { Length: > 0 } thickness) measures.Text(DicomReferenceTags.SliceThickness, "DS", thickness);
            else if (g.Size.Z > 1) measures.Decimals(DicomReferenceTags.SliceThickness, Math.Abs(g.Spacing[2]));
            shared.Sequence(0x00289110, measures);
        }
        ds.Sequence(0x52009229, shared);

        var perFrame = new List<DicomDataSet>(frameList.Count);
        foreach (var (s, z) in frameList)
        {
            var f = frames[z];
            var sourceImage = new DicomDataSet().Text(0x00081150, "UI", f.SopClassUid).Text(0x00081155, "UI", f.SopInstanceUid)
                .Code(0x0040A170, new DicomCode("121322", "DCM", "Source image for image processing operation"));
            if (f.FrameNumber > 0) sourceImage.Integer(0x00081160, f.FrameNumber);
            var item = new DicomDataSet()
                .Sequence(0x00089124, new DicomDataSet().Sequence(0x00082112, sourceImage)
                    .Code(0x00089215, new DicomCode("113076", "DCM", "Segmentation")))
                .Sequence(0x00209111, new DicomDataSet().UnsignedLongs(0x00209157, spatial ? [(uint)(s + 1), (uint)(z + 1)] : [(uint)(s + 1)]))
                .Sequence(SegmentIdentificationSequence, new DicomDataSet().UnsignedShorts(ReferencedSegmentNumber, (ushort)(s + 1)));
            if (spatial) item.Sequence(PlanePositionSequence, new DicomDataSet().Decimals(ImagePositionPatient, f.Position!));
            perFrame.Add(item);
        }
        ds.Sequence(0x52009230, perFrame);
    }

    // The frames' bits back to back, LSB first, as Bits Allocated 1 packs them.
    private static byte[] PixelData(ImageVolume labels, List<KeyValuePair<int, string>> segments, List<(int Segment, int Z)> frameList,
        CancellationToken cancellationToken)
    {
        int perSlice = labels.Geometry.Size.X * labels.Geometry.Size.Y;
        long bits = (long)frameList.Count * perSlice;
        if ((bits + 7) / 8 > int.MaxValue - 1)
            throw new InvalidInputException("labels", $"{frameList.Count} frames of {labels.Geometry.Size.X}×{labels.Geometry.Size.Y} do not fit one SEG");
        var pixels = new byte[(bits + 7) / 8];
        long bit = 0;
        foreach (var (s, z) in frameList)
        {
            cancellationToken.ThrowIfCancellationRequested();
            PackBits(labels.Voxels.AsSpan(z * perSlice, perSlice), segments[s].Key, pixels, bit);
            bit += perSlice;
        }
        return pixels;
    }

    // PS3.10: 128-byte preamble, "DICM", the file meta information (explicit VR LE, led by its group length), the data set.
    private static void WritePart10(DicomDataSet dataSet, string instanceUid, Stream output)
    {
        var meta = new DicomDataSet()
            .Bytes(0x00020001, "OB", [0, 1])
            .Text(0x00020002, "UI", SegmentationStorage)
            .Text(0x00020003, "UI", instanceUid)
            .Text(0x00020010, "UI", ExplicitVrLittleEndian)
            .Text(0x00020012, "UI", DicomUids.ImplementationClassUid)
            .Text(0x00020013, "SH", "EDU_FRAMEWORK");
        output.Write(new byte[128]);
        output.Write("DICM"u8);
        new DicomDataSet().UnsignedLongs(0x00020000, checked((uint)meta.EncodedLength())).WriteTo(output);
        meta.WriteTo(output);
        dataSet.WriteTo(output);
    }

    // Sets bit (start + i), LSB first, where slice[i] == value. Byte-aligned runs take eight voxels per step: one
    // 256-bit compare whose sign bits are exactly the next byte.
    private static void PackBits(ReadOnlySpan<float> slice, float value, byte[] pixels, long start)
    {
        int i = 0;
        if ((start & 7) == 0 && Vector256.IsHardwareAccelerated)
        {
            var target = Vector256.Create(value);
            long at = start >> 3;
            for (; i + 8 <= slice.Length; i += 8)
                pixels[at++] = (byte)Vector256.Equals(Vector256.Create(slice.Slice(i, 8)), target).ExtractMostSignificantBits();
        }
        for (long bit = start + i; i < slice.Length; i++, bit++)
            if (slice[i] == value) pixels[bit >> 3] |= (byte)(1 << (int)(bit & 7));
    }

    private static double[] World(ImageGeometry g, int z)
    {
        var (x, y, w) = g.IndexToWorld(0, 0, z);
        return [x, y, w];
    }

    private static string TextValue(DicomImageAttributes a, uint tag) =>
        a.ReferenceValues.TryGetValue(tag, out var v) ? Encoding.ASCII.GetString(v).Trim('\0', ' ') : "";

    private static string Clean(string s, int max) => s.Replace('\\', '/') is var t && t.Length > max ? t[..max] : t;

    // Our own text goes in the source's character set, which the copied patient and study values are in: Latin-1 or
    // UTF-8 as the source declares them; with none declared (ASCII), UTF-8 is declared if our text needs it. Any other
    // set keeps our text ASCII ('?' for what it cannot hold).
    private static (Encoding Encoding, byte[]? Charset) TextEncoding(DicomImageAttributes source, IEnumerable<string> ours)
    {
        source.ReferenceValues.TryGetValue(DicomReferenceTags.SpecificCharacterSet, out var raw);
        string declared = TextValue(source, DicomReferenceTags.SpecificCharacterSet);
        return declared switch
        {
            "" when ours.All(t => t.All(char.IsAscii)) => (Encoding.ASCII, null),
            "" => (Encoding.UTF8, "ISO_IR 192"u8.ToArray()),
            "ISO_IR 100" => (Encoding.Latin1, raw),
            "ISO_IR 192" => (Encoding.UTF8, raw),
            _ => (Encoding.ASCII, raw),
        };
    }
}
