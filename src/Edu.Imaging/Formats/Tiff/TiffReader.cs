using BitMiracle.LibTiff.Classic;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.Tiff;

/// <summary>
/// Reads TIFF through LibTiff.NET: 8/16/32/64-bit integers and 32/64-bit floats, grey or RGB (alpha
/// and extra samples beyond the colour dropped; other multi-sample images keep every sample as a
/// channel), strips or tiles, contiguous or separate planes, any compression LibTiff decodes (LZW,
/// Deflate, PackBits, JPEG). Pages become slices (z). Palette, bilevel, YCbCr and CMYK images are
/// read as 8-bit RGB through LibTiff's RGBA interface. Spacing comes from the resolution tags when the
/// unit is inch or centimetre, else 1.
/// </summary>
public sealed class TiffReader : IImageReader
{
    private const long MaxCompressionRatio = 5000;

    /// <summary>Creates the reader.</summary>
    public TiffReader() => QuietTiffErrorHandler.Install();

    /// <inheritdoc />
    public string Name => "TIFF";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".tif", ".tiff"];

    /// <inheritdoc />
    public int HeaderBytesNeeded => 4;

    /// <inheritdoc />
    public bool TryDetect(ReadOnlySpan<byte> header) =>
        header.Length >= 4 && ((header[0] == 'I' && header[1] == 'I' && header[2] is 42 or 43 && header[3] == 0)
                               || (header[0] == 'M' && header[1] == 'M' && header[2] == 0 && header[3] is 42 or 43));

    /// <inheritdoc />
    public ImageHeader Identify(string path) => Run(path, tiff =>
    {
        var layout = Layout.Of(tiff, path);
        return new ImageHeader(Name, layout.Geometry, layout.Channels, layout.PixelType);
    });

    /// <inheritdoc />
    public ImageVolume Read(string path, CancellationToken cancellationToken = default) => Run(path, tiff =>
    {
        var layout = Layout.Of(tiff, path);
        long plane = (long)layout.Width * layout.Height;
        long volumeVoxels = plane * layout.Pages;
        var voxels = new float[volumeVoxels * layout.Channels];
        for (short page = 0; page < layout.Pages; page++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!tiff.SetDirectory(page))
                throw TiffThrowHelper.Invalid(path, $"page {page} cannot be read ({QuietTiffErrorHandler.LastError})");
            if (layout.ViaRgba)
                ReadRgba(tiff, layout, voxels, page, volumeVoxels, path);
            else
                ReadRaw(tiff, layout, voxels, page, volumeVoxels, path);
        }
        return new ImageVolume(layout.Geometry, layout.Channels, voxels, layout.PixelType,
            new Dictionary<string, string> { ["Format"] = Name });
    });

    private static void ReadRgba(BitMiracle.LibTiff.Classic.Tiff tiff, Layout l, float[] voxels, int page, long volumeVoxels, string path)
    {
        var raster = new int[(long)l.Width * l.Height];
        if (!tiff.ReadRGBAImageOriented(l.Width, l.Height, raster, Orientation.TOPLEFT, false))
            throw TiffThrowHelper.Invalid(path, $"page {page} cannot be decoded ({QuietTiffErrorHandler.LastError})");
        long plane = (long)l.Width * l.Height, pageBase = page * plane;
        for (long i = 0; i < plane; i++)
        {
            int p = raster[i];
            voxels[pageBase + i] = p & 0xFF;
            if (l.Channels == 3)
            {
                voxels[volumeVoxels + pageBase + i] = (p >> 8) & 0xFF;
                voxels[2 * volumeVoxels + pageBase + i] = (p >> 16) & 0xFF;
            }
        }
    }

    private static void ReadRaw(BitMiracle.LibTiff.Classic.Tiff tiff, Layout l, float[] voxels, int page, long volumeVoxels, string path)
    {
        int bytesPerSample = SampleConverter.SizeOf(l.PixelType);
        int planes = l.Separate ? l.SamplesPerPixel : 1;
        int samplesPerPlanePixel = l.Separate ? 1 : l.SamplesPerPixel;
        long plane = (long)l.Width * l.Height, pageBase = page * plane;
        int rowBytes = l.Width * samplesPerPlanePixel * bytesPerSample;
        var pageBytes = new byte[(long)rowBytes * l.Height];
        var rowFloats = new float[l.Width * samplesPerPlanePixel];
        for (int p = 0; p < planes; p++)
        {
            if (tiff.IsTiled())
                ReadTiles(tiff, l, pageBytes, rowBytes, samplesPerPlanePixel * bytesPerSample, (short)p, path);
            else
            {
                int scanline = tiff.ScanlineSize();
                var line = new byte[Math.Max(scanline, rowBytes)];
                for (int y = 0; y < l.Height; y++)
                {
                    if (!tiff.ReadScanline(line, y, (short)p))
                        throw TiffThrowHelper.Invalid(path, $"page {page} row {y} cannot be decoded ({QuietTiffErrorHandler.LastError})");
                    Buffer.BlockCopy(line, 0, pageBytes, y * rowBytes, rowBytes);
                }
            }
            for (int y = 0; y < l.Height; y++)
            {
                SampleConverter.Convert(pageBytes.AsSpan(y * rowBytes, rowBytes), rowFloats, l.PixelType, bigEndian: !BitConverter.IsLittleEndian);
                long rowBase = pageBase + (long)y * l.Width;
                for (int c = 0; c < (l.Separate ? 1 : l.Channels); c++)
                {
                    int channel = l.Separate ? p : c;
                    if (channel >= l.Channels)
                        continue;
                    long dst = channel * volumeVoxels + rowBase;
                    for (int x = 0; x < l.Width; x++)
                        voxels[dst + x] = rowFloats[x * samplesPerPlanePixel + c];
                }
            }
        }
    }

    private static void ReadTiles(BitMiracle.LibTiff.Classic.Tiff tiff, Layout l, byte[] pageBytes, int rowBytes, int pixelBytes, short plane, string path)
    {
        int tw = tiff.GetField(TiffTag.TILEWIDTH)?[0].ToInt() ?? 0, th = tiff.GetField(TiffTag.TILELENGTH)?[0].ToInt() ?? 0;
        if (tw < 1 || th < 1 || (long)tw * th > ReaderLimits.MaxSamples / 8)
            throw TiffThrowHelper.Invalid(path, $"tile size {tw}×{th}");
        var tile = new byte[Math.Max(tiff.TileSize(), (long)tw * th * pixelBytes)];
        for (int ty = 0; ty < l.Height; ty += th)
        {
            for (int tx = 0; tx < l.Width; tx += tw)
            {
                if (tiff.ReadTile(tile, 0, tx, ty, 0, plane) < 0)
                    throw TiffThrowHelper.Invalid(path, $"tile at ({tx}, {ty}) cannot be decoded ({QuietTiffErrorHandler.LastError})");
                int w = Math.Min(tw, l.Width - tx), h = Math.Min(th, l.Height - ty);
                for (int y = 0; y < h; y++)
                    Buffer.BlockCopy(tile, y * tw * pixelBytes, pageBytes, (ty + y) * rowBytes + tx * pixelBytes, w * pixelBytes);
            }
        }
    }

    private T Run<T>(string path, Func<BitMiracle.LibTiff.Classic.Tiff, T> body)
    {
        using var stream = ImageFile.OpenRead(path);
        QuietTiffErrorHandler.LastError = null;
        try
        {
            using var tiff = BitMiracle.LibTiff.Classic.Tiff.ClientOpen(path, "r", stream, new TiffStream())
                ?? throw TiffThrowHelper.Invalid(path, QuietTiffErrorHandler.LastError ?? "LibTiff cannot open it");
            return body(tiff);
        }
        catch (Exception e) when (e is not (EduException or OperationCanceledException or OutOfMemoryException))
        {
            // LibTiff.NET reports malformed input with assorted exception types; all mean a bad file.
            throw TiffThrowHelper.Invalid(path, $"{QuietTiffErrorHandler.LastError ?? e.Message}", e);
        }
    }

    private sealed record Layout(int Width, int Height, int Pages, int SamplesPerPixel, int Channels, PixelType PixelType,
        bool Separate, bool ViaRgba, ImageGeometry Geometry)
    {
        public static Layout Of(BitMiracle.LibTiff.Classic.Tiff tiff, string path)
        {
            int pages = tiff.NumberOfDirectories();
            if (pages < 1 || pages > ReaderLimits.MaxExtent)
                throw TiffThrowHelper.Invalid(path, $"{pages} pages");
            Layout? first = null;
            for (short p = 0; p < pages; p++)
            {
                if (!tiff.SetDirectory(p))
                    throw TiffThrowHelper.Invalid(path, $"page {p} cannot be read ({QuietTiffErrorHandler.LastError})");
                var page = OfPage(tiff, path, pages);
                if (first is null)
                    first = page;
                else if (page.Width != first.Width || page.Height != first.Height || page.Channels != first.Channels || page.PixelType != first.PixelType)
                    throw TiffThrowHelper.Unsupported(path, $"page {p} ({page.Width}×{page.Height}, {page.Channels} channels, {page.PixelType}) differs from page 0 ({first.Width}×{first.Height}, {first.Channels} channels, {first.PixelType}); pages are read as slices of one volume");
            }
            tiff.SetDirectory(0);
            long samples = (long)first!.Width * first.Height * pages * Math.Max(first.SamplesPerPixel, first.Channels);
            long fileBytes = tiff.GetStream().Size(tiff.Clientdata());
            int compression = tiff.GetField(TiffTag.COMPRESSION)?[0].ToInt() ?? 1;
            long available = compression == 1 ? fileBytes * 8 : fileBytes * MaxCompressionRatio;
            string? claim = ReaderLimits.CheckClaim(samples, 1, available, compressed: false);
            if (claim is not null)
                throw TiffThrowHelper.Invalid(path, claim);
            return first;
        }

        private static Layout OfPage(BitMiracle.LibTiff.Classic.Tiff tiff, string path, int pages)
        {
            int width = tiff.GetField(TiffTag.IMAGEWIDTH)?[0].ToInt() ?? 0;
            int height = tiff.GetField(TiffTag.IMAGELENGTH)?[0].ToInt() ?? 0;
            if (width < 1 || height < 1 || width > ReaderLimits.MaxExtent || height > ReaderLimits.MaxExtent)
                throw TiffThrowHelper.Invalid(path, $"size {width}×{height}");
            int bps = tiff.GetFieldDefaulted(TiffTag.BITSPERSAMPLE)?[0].ToInt() ?? 1;
            int spp = tiff.GetFieldDefaulted(TiffTag.SAMPLESPERPIXEL)?[0].ToInt() ?? 1;
            int format = tiff.GetFieldDefaulted(TiffTag.SAMPLEFORMAT)?[0].ToInt() ?? 1;
            var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? (spp >= 3 ? 2 : 1));
            int planar = tiff.GetFieldDefaulted(TiffTag.PLANARCONFIG)?[0].ToInt() ?? 1;
            int extra = tiff.GetField(TiffTag.EXTRASAMPLES)?[0].ToInt() ?? 0;
            if (spp < 1 || spp > 64)
                throw TiffThrowHelper.Invalid(path, $"{spp} samples per pixel");
            PixelType? type = (format, bps) switch
            {
                (1 or 4, 8) => PixelType.UInt8,
                (1 or 4, 16) => PixelType.UInt16,
                (1 or 4, 32) => PixelType.UInt32,
                (1 or 4, 64) => PixelType.UInt64,
                (2, 8) => PixelType.Int8,
                (2, 16) => PixelType.Int16,
                (2, 32) => PixelType.Int32,
                (2, 64) => PixelType.Int64,
                (3, 32) => PixelType.Float32,
                (3, 64) => PixelType.Float64,
                _ => null,
            };
            bool plain = photometric is Photometric.MINISBLACK or Photometric.MINISWHITE or Photometric.RGB;
            bool viaRgba = type is null || !plain || (photometric == Photometric.RGB && spp < 3);
            if (viaRgba && (bps > 16 || format == 3))
                throw TiffThrowHelper.Unsupported(path, $"{bps}-bit samples with photometric interpretation {photometric}");
            int channels = viaRgba
                ? (photometric is Photometric.MINISBLACK or Photometric.MINISWHITE ? 1 : 3)
                : photometric == Photometric.RGB ? 3 : Math.Max(1, spp - extra);
            var spacing = Spacing(tiff);
            var geometry = new ImageGeometry(new VolumeSize(width, height, pages), [spacing.X, spacing.Y, 1], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
            return new Layout(width, height, pages, spp, channels, viaRgba ? PixelType.UInt8 : type!.Value, planar == 2, viaRgba, geometry);
        }

        private static (double X, double Y) Spacing(BitMiracle.LibTiff.Classic.Tiff tiff)
        {
            int unit = tiff.GetFieldDefaulted(TiffTag.RESOLUTIONUNIT)?[0].ToInt() ?? 2;
            double mmPerUnit = unit switch { 2 => 25.4, 3 => 10.0, _ => 0 };
            double xr = tiff.GetField(TiffTag.XRESOLUTION)?[0].ToDouble() ?? 0, yr = tiff.GetField(TiffTag.YRESOLUTION)?[0].ToDouble() ?? 0;
            double sx = mmPerUnit > 0 && xr > 0 && double.IsFinite(xr) ? mmPerUnit / xr : 1;
            double sy = mmPerUnit > 0 && yr > 0 && double.IsFinite(yr) ? mmPerUnit / yr : 1;
            return (sx > 0 && double.IsFinite(sx) ? sx : 1, sy > 0 && double.IsFinite(sy) ? sy : 1);
        }
    }
}
