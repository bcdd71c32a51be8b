using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Edu.V1;
using Edu.Abstractions.Logging;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Edu.Worker.Tests.Security;

/// <summary>
/// The worker's logs carry no patient identity (docs/api.md, Security): real DICOM files with patient name, ID and
/// study/series/instance UIDs go through Segment, successfully and in requests that fail; every log entry at Debug and
/// above (message, structured values, scopes, exceptions) is captured and searched for those values.
/// </summary>
public sealed class LogRedactionTests
{
    private static readonly string Dicom = Path.Combine(AppContext.BaseDirectory, "TestData", "dicom");
    private static readonly string Series = Path.Combine(Dicom, "series", "98892001", "CT5N");

    private static SegmentHeader Header(string model, string series = "")
    {
        var h = new SegmentHeader { Model = model, SeriesInstanceUid = series };
        h.Outputs.Add(OutputKind.Nifti);
        return h;
    }

    [Theory]
    [InlineData("IMG_1.2.826.0.1.3680043.2.1125.1.dcm is truncated", "1.2.826.0.1.3680043.2.1125.1")]
    [InlineData("CT.1.3.6.1.4.1.5962.1.1.1.dcm: no pixel data", "1.3.6.1.4.1.5962.1.1.1")]
    [InlineData("series 2.25.329800735698586629295641978511506172918 not found", "2.25.329800735698586629295641978511506172918")]
    public void Uids_are_hashed_wherever_they_stand_in_a_message(string message, string uid)
    {
        string redacted = LogRedaction.Uids(message);
        Assert.DoesNotContain(uid, redacted, StringComparison.Ordinal);
        Assert.Contains("uid:" + LogRedaction.Hash(uid), redacted, StringComparison.Ordinal);
        Assert.Equal("transfer syntax 1.2.840.10008.1.2.4.50", LogRedaction.Uids("transfer syntax 1.2.840.10008.1.2.4.50"));
    }

    [Fact]
    public void An_IP_address_is_not_taken_for_a_UID()
    {
        Assert.Equal("no answer from http://127.0.0.1:8042", LogRedaction.Uids("no answer from http://127.0.0.1:8042"));
        Assert.Equal("C-STORE to PACS@10.1.20.3:104", LogRedaction.Uids("C-STORE to PACS@10.1.20.3:104"));
    }

    [Fact]
    public async Task Segmenting_dicom_logs_the_series_hash_and_no_identity()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "mr2d", "1", dims: 2, inChannels: 1);
        TestData.Package(temp.Sub("models"), "ct3d", "1", dims: 3, inChannels: 1);
        var mr = Identity.Read(Path.Combine(Dicom, "MR_small.dcm"));
        var ct = Directory.EnumerateFiles(Series).Order(StringComparer.Ordinal).Select(Identity.Read).ToList();
        // uploaded under their SOP Instance UIDs, as PACS exports name files
        string single = Copy(mr.Path, temp.Sub("single"), mr.SopInstanceUid + ".dcm");
        var slices = ct.Select(i => Copy(i.Path, temp.Sub("series"), i.SopInstanceUid + ".dcm")).ToList();
        var log = new CapturingLoggerProvider();

        await using (var worker = await StartAsync(temp, log))
        {
            var client = worker.Client<SegmentationService.SegmentationServiceClient>();
            var one = await Segment.RunAsync(client, Header("mr2d"), [single]);
            Assert.True(one.Status!.Ok);
            Assert.Equal([64, 64, 1], one.Result!.Geometry.Size);
            var five = await Segment.RunAsync(client, Header("ct3d"), slices);
            Assert.True(five.Status!.Ok);
            Assert.Equal([16, 16, 5], five.Result!.Geometry.Size);
        }

        string text = log.Text();
        Assert.Contains(LogRedaction.Hash(mr.SeriesInstanceUid), text, StringComparison.Ordinal);
        Assert.Contains(LogRedaction.Hash(ct[0].SeriesInstanceUid), text, StringComparison.Ordinal);
        AssertNoIdentity(text, [mr, .. ct]);
    }

    [Fact]
    public async Task Failed_dicom_requests_are_logged_without_identity_and_still_explained_to_the_client()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "mr2d", "1", dims: 2, inChannels: 1);
        var mr = Identity.Read(Path.Combine(Dicom, "MR_small.dcm"));
        var ctSmall = Identity.Read(Path.Combine(Dicom, "CT_small.dcm"));
        var ct = Directory.EnumerateFiles(Series).Order(StringComparer.Ordinal).Select(Identity.Read).ToList();

        // a truncated copy of a real file, named by its SOP Instance UID
        string truncated = temp.Sub(ctSmall.SopInstanceUid + ".dcm");
        var bytes = await File.ReadAllBytesAsync(ctSmall.Path);
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length * 2 / 3)]);
        // a truncated copy named after its patient
        string named = temp.Sub($"{ct[0].PatientName}_{ct[0].PatientId}.dcm");
        bytes = await File.ReadAllBytesAsync(ct[0].Path);
        await File.WriteAllBytesAsync(named, bytes[..(bytes.Length / 2)]);
        // two series in one upload, and a series UID that is not in the upload
        string mrFile = Copy(mr.Path, temp.Sub("mixed"), mr.SopInstanceUid + ".dcm");
        string ctFile = Copy(ctSmall.Path, temp.Sub("mixed"), ctSmall.SopInstanceUid + ".dcm");
        var slices = ct.Select(i => Copy(i.Path, temp.Sub("series"), i.SopInstanceUid + ".dcm")).ToList();
        // a series with one slice twice, the copies named after the patient: the error names both files
        var twice = ct.Select((i, n) => Copy(i.Path, temp.Sub("twice"), $"{i.PatientName}_{n}.dcm")).ToList();
        twice.Add(Copy(ct[0].Path, temp.Sub("twice"), $"{ct[0].PatientName}_{ct[0].PatientId}_again.dcm"));
        var log = new CapturingLoggerProvider();

        await using (var worker = await StartAsync(temp, log))
        {
            var client = worker.Client<SegmentationService.SegmentationServiceClient>();

            var duplicate = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("mr2d"), twice));
            Assert.Equal(StatusCode.InvalidArgument, duplicate.StatusCode);
            Assert.Contains("share one position", duplicate.Status.Detail, StringComparison.Ordinal);
            Assert.Contains($"{ct[0].PatientName}_{ct[0].PatientId}_again.dcm", duplicate.Status.Detail, StringComparison.Ordinal); // the client is told which files

            var corrupt = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("mr2d"), [truncated]));
            Assert.Equal(StatusCode.InvalidArgument, corrupt.StatusCode);
            Assert.StartsWith(Path.GetFileName(truncated) + ":", corrupt.Status.Detail, StringComparison.Ordinal); // the client is told which file

            var patient = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("mr2d"), [named]));
            Assert.Equal(StatusCode.InvalidArgument, patient.StatusCode);
            Assert.StartsWith(Path.GetFileName(named) + ":", patient.Status.Detail, StringComparison.Ordinal);

            var mixed = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("mr2d"), [mrFile, ctFile]));
            Assert.Equal(StatusCode.InvalidArgument, mixed.StatusCode);
            Assert.Contains(mr.SeriesInstanceUid, mixed.Status.Detail, StringComparison.Ordinal);

            var missing = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("mr2d", mr.SeriesInstanceUid), slices));
            Assert.Equal(StatusCode.InvalidArgument, missing.StatusCode);
            Assert.Contains(ct[0].SeriesInstanceUid, missing.Status.Detail, StringComparison.Ordinal);
        }

        // every failure reached the log (so the search below searched something)
        Assert.Equal(5, log.Entries.Count(e => e.Level >= LogLevel.Information && e.Text.Contains("invalid argument", StringComparison.Ordinal)));
        AssertNoIdentity(log.Text(), [mr, ctSmall, .. ct]);
    }

    private static void AssertNoIdentity(string text, IEnumerable<Identity> files)
    {
        foreach (var file in files)
            foreach (var (name, value) in file.Values())
                if (text.Contains(value, StringComparison.OrdinalIgnoreCase))
                    Assert.Fail($"the worker's log shows {name} '{value}' of {Path.GetFileName(file.Path)}:\n{text}");
    }

    private static string Copy(string source, string folder, string name)
    {
        Directory.CreateDirectory(folder);
        string target = Path.Combine(folder, name);
        File.Copy(source, target);
        return target;
    }

    private static Task<TestWorker> StartAsync(TempDir temp, CapturingLoggerProvider log) =>
        TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"), new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Debug",
            ["Logging:LogLevel:Edu.Worker"] = "Debug",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug", // appsettings.json says Warning
            // Grpc stays at the shipped Warning: from Information on, grpc-dotnet logs every error status with its detail,
            // which names the client's file and the series on purpose (the client needs them)
        }, services: s => s.AddSingleton<ILoggerProvider>(log));

    /// <summary>
    /// The identifying attributes of one DICOM file (explicit VR little endian), every occurrence, nested ones
    /// (Other Patient IDs) included: the tag and VR are looked for in the bytes and the value read after them.
    /// </summary>
    private sealed record Identity(string Path, Dictionary<string, List<string>> Attributes)
    {
        private static readonly (string Name, ushort Group, ushort Element, string Vr)[] Tags =
        [
            ("PatientName", 0x0010, 0x0010, "PN"),
            ("PatientID", 0x0010, 0x0020, "LO"),
            ("StudyInstanceUID", 0x0020, 0x000d, "UI"),
            ("SeriesInstanceUID", 0x0020, 0x000e, "UI"),
            ("SOPInstanceUID", 0x0008, 0x0018, "UI"),
        ];

        public string PatientName => Attributes["PatientName"][0];
        public string PatientId => Attributes["PatientID"][0];
        public string SeriesInstanceUid => Attributes["SeriesInstanceUID"].Single();
        public string SopInstanceUid => Attributes["SOPInstanceUID"].Single();

        public static Identity Read(string path)
        {
            var bytes = File.ReadAllBytes(path);
            var identity = new Identity(path, Tags.ToDictionary(t => t.Name, t => Find(bytes, t.Group, t.Element, t.Vr)));
            Assert.All(identity.Attributes, a => Assert.NotEmpty(a.Value)); // the file carries each one
            return identity;
        }

        /// <summary>Each value, and each part of a person name of four letters or more.</summary>
        public IEnumerable<(string Name, string Value)> Values()
        {
            foreach (var (name, values) in Attributes)
                foreach (var value in values)
                {
                    yield return (name, value);
                    if (name == "PatientName")
                        foreach (var part in value.Split('^', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(p => p.Length >= 4))
                            yield return ("part of PatientName", part);
                }
        }

        private static List<string> Find(byte[] bytes, ushort group, ushort element, string vr)
        {
            var pattern = new byte[6];
            BinaryPrimitives.WriteUInt16LittleEndian(pattern, group);
            BinaryPrimitives.WriteUInt16LittleEndian(pattern.AsSpan(2), element);
            Encoding.ASCII.GetBytes(vr, pattern.AsSpan(4));
            var values = new List<string>();
            for (int at = 0; at + 8 <= bytes.Length;)
            {
                int found = bytes.AsSpan(at).IndexOf(pattern);
                if (found < 0) break;
                int start = at + found + 8, length = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + found + 6));
                string value = Encoding.ASCII.GetString(bytes, start, Math.Min(length, bytes.Length - start)).TrimEnd('\0', ' ');
                if (value.Length > 0) values.Add(value);
                at = start + length;
            }
            return values;
        }
    }

    /// <summary>Records every log entry: the formatted message, each structured value, the scopes and the exception.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<(string Category, LogLevel Level, string Text)> Entries { get; } = new();

        public string Text() => string.Join('\n', Entries.Select(e => $"{e.Level} {e.Category}: {e.Text}"));

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                var text = new StringBuilder(formatter(state, exception));
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                    foreach (var (key, value) in values)
                        text.Append(CultureInfo.InvariantCulture, $" | {key}={value}");
                owner._scopes.ForEachScope((scope, sb) =>
                {
                    sb.Append(CultureInfo.InvariantCulture, $" | scope {scope}");
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                        foreach (var (key, value) in pairs) sb.Append(CultureInfo.InvariantCulture, $" {key}={value}");
                }, text);
                if (exception is not null) text.Append(" | ").Append(exception);
                owner.Entries.Enqueue((category, logLevel, text.ToString()));
            }
        }
    }
}
