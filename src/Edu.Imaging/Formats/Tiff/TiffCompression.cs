namespace Edu.Imaging.Formats.Tiff;

/// <summary>Compression the TIFF writer applies.</summary>
public enum TiffCompression
{
    /// <summary>No compression.</summary>
    None,
    /// <summary>LZW.</summary>
    Lzw,
    /// <summary>Deflate (zlib, "Adobe deflate").</summary>
    Deflate,
}
