using System.Diagnostics;
using System.Net.Sockets;
using Edu.Dicom.Tests;
using Edu.Gateway.Dimse;
using Edu.Gateway.Ingest;
using Edu.Gateway.Routing;
using Edu.Gateway.State;

namespace Edu.Gateway.Tests;

/// <summary>The gateway's own Storage SCP against dcmtk's storescu and echoscu (Debian's dcmtk 3.6.7), on loopback.</summary>
public sealed class StorageScpTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edu-scp-").FullName;
    private GatewayStateStore _state = null!;
    private LocalSeriesIngest _ingest = null!;
    private StorageScp _scp = null!;

    public Task InitializeAsync()
    {
        _state = new GatewayStateStore(Path.Combine(_folder, "gateway.db"));
        _ingest = new LocalSeriesIngest(_state, Path.Combine(_folder, "series"));
        _scp = new StorageScp(new StorageScpOptions { AeTitle = "EDUGW", Port = 0, MaxAssociations = 4 }, Path.Combine(_folder, "partial"), _ingest.KeepAsync);
        _scp.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _scp.DisposeAsync();
        _state.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_series_sent_with_storescu_is_kept_byte_for_byte_and_recorded_with_the_sender_s_AE_title()
    {
        var files = Directory.GetFiles(TestFiles.Series("98892001", "CT5N")).Order(StringComparer.Ordinal).ToArray();
        var (exit, output) = await RunAsync("storescu", ["-aet", "SCANNER1", "-aec", "EDUGW", "127.0.0.1", _scp.Port.ToString(), .. files]);
        Assert.True(exit == 0, output);

        var row = Assert.Single(_state.List());
        var facts = System.Text.Json.JsonSerializer.Deserialize<SeriesFacts>(row.FactsJson)!;
        Assert.Equal(("CT", "SCANNER1", "1.2.840.10008.5.1.4.1.1.2"), (facts.Modality, facts.CallingAeTitle, facts.SopClassUid));
        var kept = Directory.GetFiles(row.LocalFolder);
        Assert.Equal(files.Length, kept.Length);
        // dcmtk re-encodes a data set when it sends it (sequence lengths), so the element values are compared, as dcmdump prints them
        var originals = new List<string>();
        foreach (var f in files) originals.Add(await DumpAsync(f));
        var received = new List<string>();
        foreach (var k in kept) received.Add(await DumpAsync(k));
        Assert.Equal(originals.Order(), received.Order());
        Assert.All(kept, k => Assert.True(Edu.Dicom.DicomStructure.Validate(k).HasPixelData));
    }

    [Fact]
    public async Task Compressed_and_implicit_VR_instances_keep_their_transfer_syntax()
    {
        foreach (var (name, propose) in new[] { ("MR_small_implicit.dcm", "-xi"), ("JPEG2000.dcm", "-xw"), ("SC_rgb_rle_2frame.dcm", "-xr") })
        {
            // propose the file's own transfer syntax, so that it travels as stored
            var (exit, output) = await RunAsync("storescu", [propose, "-aet", "SCANNER1", "-aec", "EDUGW", "127.0.0.1", _scp.Port.ToString(), TestFiles.Dicom(name)]);
            Assert.True(exit == 0, $"{name}: {output}");
        }
        var kept = _state.List().SelectMany(r => Directory.GetFiles(r.LocalFolder)).ToList();
        Assert.Equal(3, kept.Count);
        var syntaxes = kept.Select(k => Edu.Dicom.DicomStructure.Validate(k).TransferSyntaxUid).Order().ToArray();
        Assert.Equal(["1.2.840.10008.1.2", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.5"], syntaxes);
    }

    [Fact]
    public async Task Echo_works_and_an_association_called_for_another_AE_title_is_rejected()
    {
        var (echo, echoOutput) = await RunAsync("echoscu", ["-aet", "SCANNER1", "-aec", "EDUGW", "127.0.0.1", _scp.Port.ToString()]);
        Assert.True(echo == 0, echoOutput);
        var (wrong, wrongOutput) = await RunAsync("storescu", ["-aet", "SCANNER1", "-aec", "OTHER", "127.0.0.1", _scp.Port.ToString(), TestFiles.Dicom("CT_small.dcm")]);
        Assert.NotEqual(0, wrong);
        Assert.Contains("Called AE Title Not Recognized", wrongOutput, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(_state.List());
    }

    [Fact]
    public async Task Garbage_on_the_port_is_dropped_and_the_SCP_keeps_serving()
    {
        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", _scp.Port);
            var stream = client.GetStream();
            await stream.WriteAsync(new byte[] { 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3 }); // an A-ASSOCIATE-RQ claiming 4 GiB
            var buffer = new byte[64];
            int read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(read == 0 || buffer[0] == 0x07, "closed or aborted"); // A-ABORT
        }
        var (exit, output) = await RunAsync("storescu", ["-aet", "SCANNER1", "-aec", "EDUGW", "127.0.0.1", _scp.Port.ToString(), TestFiles.Dicom("CT_small.dcm")]);
        Assert.True(exit == 0, output);
        Assert.Single(_state.List());
    }

    [Fact]
    public async Task An_instance_without_a_Study_Instance_UID_is_refused_and_nothing_is_kept()
    {
        // CT_small without Study Instance UID (dcmtk's dcmodify erases it): the SCP answers Cannot Understand
        string file = Path.Combine(_folder, "nostudy.dcm");
        File.Copy(TestFiles.Dicom("CT_small.dcm"), file);
        Assert.Equal(0, (await RunAsync("dcmodify", ["-nb", "-ea", "(0020,000d)", file])).Exit);
        var (_, output) = await RunAsync("storescu", ["-v", "-aet", "SCANNER1", "-aec", "EDUGW", "127.0.0.1", _scp.Port.ToString(), file]);
        Assert.True(output.Contains("Received Store Response (Error: CannotUnderstand)", StringComparison.Ordinal), output);
        Assert.Empty(_state.List());
        Assert.Empty(Directory.GetFiles(Path.Combine(_folder, "partial")));
    }

    // every data element with its value (pixel data included, +P prints it whole), without the file meta information and
    // without how sequences are delimited
    private static async Task<string> DumpAsync(string file)
    {
        var (exit, output) = await RunAsync("dcmdump", ["+L", "+U8", "-M", "+P", "7fe0,0010", "+R", "512", file]);
        Assert.Equal(0, exit);
        return string.Join('\n', output.Split('\n').Where(l => !l.StartsWith("(0002", StringComparison.Ordinal) && !l.StartsWith('#')
            && !l.Contains("Sequence with", StringComparison.Ordinal) && !l.Contains("Item with", StringComparison.Ordinal)
            && !l.Contains("Delimitation", StringComparison.Ordinal)));
    }

    internal static async Task<(int Exit, string Output)> RunAsync(string tool, string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout + await stderr);
    }
}
