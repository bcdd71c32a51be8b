using BitMiracle.LibTiff.Classic;

namespace Edu.Imaging.Formats.Tiff;

/// <summary>
/// Keeps LibTiff.NET from printing to the console; errors are collected per thread so the reader
/// can name them in its exception.
/// </summary>
internal sealed class QuietTiffErrorHandler : TiffErrorHandler
{
    [ThreadStatic]
    private static string? _lastError;

    private static readonly object Gate = new();
    private static bool _installed;

    /// <summary>The last error LibTiff reported on this thread, if any.</summary>
    public static string? LastError
    {
        get => _lastError;
        set => _lastError = value;
    }

    /// <summary>Installs the handler once for the process.</summary>
    public static void Install()
    {
        lock (Gate)
        {
            if (_installed)
                return;
            BitMiracle.LibTiff.Classic.Tiff.SetErrorHandler(new QuietTiffErrorHandler());
            _installed = true;
        }
    }

    /// <inheritdoc />
    public override void ErrorHandler(BitMiracle.LibTiff.Classic.Tiff tif, string method, string format, params object[] args) =>
        _lastError = Format(format, args);

    /// <inheritdoc />
    public override void ErrorHandlerExt(BitMiracle.LibTiff.Classic.Tiff tif, object clientData, string method, string format, params object[] args) =>
        _lastError = Format(format, args);

    /// <inheritdoc />
    public override void WarningHandler(BitMiracle.LibTiff.Classic.Tiff tif, string method, string format, params object[] args)
    {
    }

    /// <inheritdoc />
    public override void WarningHandlerExt(BitMiracle.LibTiff.Classic.Tiff tif, object clientData, string method, string format, params object[] args)
    {
    }

    private static string Format(string format, object[] args)
    {
        try
        {
            return string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args);
        }
        catch (FormatException)
        {
            return format;
        }
    }
}
