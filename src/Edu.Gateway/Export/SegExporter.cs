using System.Diagnostics;
using Edu.Dicom.Web;

namespace Edu.Gateway.Export;

/// <summary>An export that did not store the SEG: the PACS refused it or could not be reached (retried later).</summary>
public sealed class ExportException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Puts a SEG into the PACS. Storing the same file twice stores one instance (same SOP Instance UID).</summary>
public interface ISegExporter
{
    /// <summary>What the exporter does, for logs.</summary>
    string Describe();

    /// <summary>Stores <paramref name="segFile"/> into the study <paramref name="studyUid"/>; throws <see cref="ExportException"/> or <see cref="DicomWebException"/> when it is not stored.</summary>
    Task ExportAsync(string segFile, string studyUid, CancellationToken cancellationToken);
}

/// <summary>STOW-RS into the source study.</summary>
public sealed class StowExporter(DicomWebClient client, Uri url) : ISegExporter
{
    /// <inheritdoc />
    public string Describe() => $"STOW-RS to {url.GetLeftPart(UriPartial.Path)}";

    /// <inheritdoc />
    public async Task ExportAsync(string segFile, string studyUid, CancellationToken cancellationToken)
    {
        var result = await client.StoreAsync([segFile], studyUid, cancellationToken).ConfigureAwait(false);
        if (result.Failed.Count > 0 || result.Stored.Count == 0)
        {
            string reasons = result.Failed.Count == 0 ? "no instance in its answer"
                : string.Join(", ", result.Failed.Select(f => f.Reason is { } r ? $"failure reason 0x{r:X4}{Meaning(r)}" : "no reason given"));
            throw new ExportException($"the PACS refused the SEG (STOW-RS {(int)result.Status}: {reasons})");
        }
    }

    // PS3.18 Table I.2-1 / PS3.4 C.4.2.1.4.1
    private static string Meaning(int reason) => reason switch
    {
        0xA700 => " out of resources",
        0xA900 => " data set does not match SOP class",
        0xC000 => " cannot understand",
        0xC122 => " referenced transfer syntax not supported",
        0x0110 => " processing failure",
        0x0122 => " SOP class not supported",
        0x0124 => " not authorized",
        0xA770 => " study UID mismatch",
        _ => "",
    };
}

/// <summary>C-STORE with dcmtk's storescu to an AE title, host and port.</summary>
public sealed class CStoreExporter(ExportSettings settings) : ISegExporter
{
    /// <inheritdoc />
    public string Describe() => $"C-STORE to {settings.CalledAeTitle}@{settings.Host}:{settings.Port} as {settings.CallingAeTitle}";

    /// <inheritdoc />
    public async Task ExportAsync(string segFile, string studyUid, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(settings.StoreScu) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "-v", "-R", "-aet", settings.CallingAeTitle, "-aec", settings.CalledAeTitle, "-to", "30", "-ta", "30", "-td", "300",
                     settings.Host, settings.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), segFile })
            info.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new ExportException($"{settings.StoreScu} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ExportException($"cannot run {settings.StoreScu} (dcmtk; apt-get install dcmtk): {e.Message}", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            string text = (await output.ConfigureAwait(false) + await errors.ConfigureAwait(false)).Trim();
            // storescu exits 0 even when the SCP answers a failure status: its verbose log line "Received Store Response
            // (Success|Warning: …|Error: …)" is the answer
            var lines = text.Split('\n').Select(l => l.Trim()).ToList();
            string? response = lines.FirstOrDefault(l => l.Contains("Received Store Response", StringComparison.Ordinal));
            bool stored = response is not null && (response.Contains("(Success", StringComparison.Ordinal) || response.Contains("(Warning", StringComparison.Ordinal));
            string? problem = stored ? null : response ?? lines.FirstOrDefault(l => l.StartsWith("E:", StringComparison.Ordinal) || l.StartsWith("F:", StringComparison.Ordinal));
            if (process.ExitCode != 0 || !stored)
                throw new ExportException($"{Describe()} failed (storescu exit {process.ExitCode}): {Abstractions.Logging.LogRedaction.Uids(problem ?? text.Split('\n').LastOrDefault() ?? "")}");
        }
    }
}
