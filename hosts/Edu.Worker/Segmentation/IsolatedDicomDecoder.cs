using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Abstractions.Serialization;
using Edu.Dicom;

namespace Edu.Worker.Segmentation;

/// <summary>
/// Decodes uploaded DICOM in a child process (<c>edu-worker --decode-dicom</c>). Debian's GDCM is built with
/// assertions and aborts the whole process on some malformed files; the C# structure check stops every case found
/// so far, but a worker next to a PACS must not die on the next one. A child that crashes costs one request an
/// InvalidArgument; the worker keeps serving. The child writes the volume as <c>volume.f32</c> (voxels as they are
/// in memory) and <c>volume.json</c> (geometry, channels, pixel type, metadata).
/// </summary>
public static class IsolatedDicomDecoder
{
    /// <summary>The first argument that runs <c>edu-worker</c> as the decoder.</summary>
    public const string Verb = "--decode-dicom";

    private const int BadInput = 2;

    /// <summary>
    /// Reads a DICOM file, or the series in a folder (<paramref name="seriesUid"/> picks one of several), in a child
    /// process; its files go to <paramref name="workFolder"/>. Bad or crashing input is an <see cref="InvalidInputException"/>.
    /// <paramref name="environment"/> adds variables to the child's environment.
    /// </summary>
    public static async Task<ImageVolume> ReadAsync(string input, string? seriesUid, string workFolder, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        Directory.CreateDirectory(workFolder);
        var (program, prefix) = ChildCommand();
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in (string[])[.. prefix, Verb, input, workFolder, seriesUid ?? ""])
            start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        using var child = Process.Start(start) ?? throw new InvalidOperationException("the DICOM decoder process did not start");
        try
        {
            var stdout = child.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = child.StandardError.ReadToEndAsync(cancellationToken);
            await child.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            string problem = (await stderr.ConfigureAwait(false)).Trim();
            await stdout.ConfigureAwait(false);
            if (child.ExitCode == BadInput)
                throw JsonSerializer.Deserialize<Failure>(problem, EduJson.Compact) is { Input: not null, Problem: not null } f
                    ? new InvalidInputException(f.Input, f.Problem)
                    : new InvalidInputException("DICOM upload", problem);
            if (child.ExitCode != 0)
                throw new InvalidInputException("DICOM upload",
                    $"the DICOM decoder stopped on this input (exit code {child.ExitCode}); the data is malformed in a way that crashes GDCM");
            return ReadVolume(workFolder);
        }
        finally
        {
            if (!child.HasExited)
            {
                try { child.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* it ended meanwhile */ }
            }
        }
    }

    /// <summary>The child's side: decode, write, exit 0; bad input: one JSON line on stderr and exit 2.</summary>
    public static int RunChild(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length != 4 || args[0] != Verb)
        {
            Console.Error.WriteLine(JsonSerializer.Serialize(new Failure("arguments", $"use {Verb} INPUT OUT-FOLDER SERIES-UID"), EduJson.Compact));
            return BadInput;
        }
        string input = args[1], output = args[2], series = args[3];
        try
        {
            var volume = Directory.Exists(input)
                ? DicomSeriesReader.Read(input, series.Length == 0 ? null : series)
                : new DicomImageReader().Read(input);
            WriteVolume(volume, output);
            return 0;
        }
        catch (InvalidInputException e)
        {
            Console.Error.WriteLine(JsonSerializer.Serialize(new Failure(e.Input, e.Problem), EduJson.Compact));
            return BadInput;
        }
    }

    private static void WriteVolume(ImageVolume volume, string folder)
    {
        var g = volume.Geometry;
        var header = new Header([g.Size.X, g.Size.Y, g.Size.Z], [.. g.Spacing], [.. g.Origin], [.. g.Direction], volume.Channels, volume.SourcePixelType,
            new Dictionary<string, string>(volume.Metadata));
        using (var stream = File.Create(Path.Combine(folder, "volume.f32")))
            stream.Write(MemoryMarshal.AsBytes(volume.Voxels.AsSpan()));
        File.WriteAllText(Path.Combine(folder, "volume.json"), JsonSerializer.Serialize(header, EduJson.Compact));
    }

    private static ImageVolume ReadVolume(string folder)
    {
        var h = JsonSerializer.Deserialize<Header>(File.ReadAllText(Path.Combine(folder, "volume.json")), EduJson.Compact)
                ?? throw new InvalidOperationException("the DICOM decoder wrote no header");
        var size = new VolumeSize(h.Size[0], h.Size[1], h.Size[2]);
        var voxels = new float[checked((int)(size.VoxelCount * h.Channels))];
        using (var stream = File.OpenRead(Path.Combine(folder, "volume.f32")))
            stream.ReadExactly(MemoryMarshal.AsBytes(voxels.AsSpan()));
        return new ImageVolume(new ImageGeometry(size, h.Spacing, h.Origin, h.Direction), h.Channels, voxels, h.PixelType, h.Metadata);
    }

    // the published edu-worker runs itself; under a dotnet host (`dotnet edu-worker.dll`, `edu serve`, test hosts) the
    // worker assembly beside this one runs on the same host
    private static (string Program, string[] Prefix) ChildCommand()
    {
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "edu-worker") return (self, []);
        string host = self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        return (host, [Path.Combine(AppContext.BaseDirectory, "edu-worker.dll")]);
    }

    private sealed record Failure(string? Input, string? Problem);

    private sealed record Header(int[] Size, double[] Spacing, double[] Origin, double[] Direction, int Channels, PixelType PixelType,
        Dictionary<string, string> Metadata);
}
