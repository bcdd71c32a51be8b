using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edu.Gateway.Dimse;

/// <summary>Settings of the gateway's own DICOM Storage SCP (configuration <c>Gateway:StoreScp</c>).</summary>
public sealed record StorageScpOptions
{
    /// <summary>The SCP's AE title; an association called for another title is rejected.</summary>
    public string AeTitle { get; init; } = "EDUGATEWAY";

    /// <summary>The address to listen on: 127.0.0.1 (this machine only, the default), or a LAN address, or 0.0.0.0.</summary>
    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 11112;

    /// <summary>Calling AE titles allowed to store; empty: any.</summary>
    public IReadOnlyList<string> AllowedCallingAeTitles { get; init; } = [];

    /// <summary>Largest P-DATA-TF PDU accepted (announced in the A-ASSOCIATE-AC); a peer that sends more is aborted.</summary>
    public uint MaxPduLength { get; init; } = 1 << 20;

    /// <summary>Largest single instance accepted; a larger one is refused (out of resources) instead of filling the disk.</summary>
    public long MaxInstanceBytes { get; init; } = 2L << 30;

    /// <summary>How long a peer may stay silent in the middle of an association before it is aborted.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Associations served at once; more are rejected as transient (local limit exceeded).</summary>
    public int MaxAssociations { get; init; } = 16;
}

/// <summary>One instance the SCP received, written as a DICOM Part 10 file and flushed to disk.</summary>
/// <param name="File">The file (in the SCP's partial folder; the handler moves it or it is deleted).</param>
/// <param name="CallingAeTitle">The sender's AE title.</param>
/// <param name="SopClassUid">Affected SOP Class UID of the C-STORE.</param>
/// <param name="SopInstanceUid">Affected SOP Instance UID of the C-STORE.</param>
public sealed record ReceivedInstance(string File, string CallingAeTitle, string SopClassUid, string SopInstanceUid);

/// <summary>
/// The gateway's DICOM Storage SCP: the upper layer (PS3.8) and C-STORE / C-ECHO (PS3.7) on a TCP listener, written here
/// rather than run as dcmtk's <c>storescp</c>: storescp cannot listen on one address only (it binds every interface),
/// hands a study over only after its end-of-study timeout, and tells the sender's AE title only to a command it forks per
/// file. Here every instance is written as a Part 10 file, flushed to disk and passed to the handler, and only then
/// answered Success: a sender that got Success can forget the instance, nothing is lost.
/// Accepts every Storage SOP Class and Verification, in the transfer syntaxes the project decodes.
/// </summary>
public sealed class StorageScp : IAsyncDisposable
{
    private const string Verification = "1.2.840.10008.1.1", StoragePrefix = "1.2.840.10008.5.1.4.1.1.";
    private const string ExplicitLittle = "1.2.840.10008.1.2.1", ImplicitLittle = "1.2.840.10008.1.2";
    private const ushort Success = 0x0000, OutOfResources = 0xA700, CannotUnderstand = 0xC000;

    // the transfer syntaxes the project decodes (as DicomStructure accepts them)
    private static readonly string[] AcceptedSyntaxes =
    [
        ExplicitLittle, ImplicitLittle, "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    ];

    private readonly StorageScpOptions _options;
    private readonly string _partialFolder;
    private readonly Func<ReceivedInstance, CancellationToken, Task> _handler;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _associations;
    private readonly List<Task> _running = [];
    private TcpListener? _listener;
    private Task? _accepting;

    /// <summary>
    /// An SCP that writes each instance into <paramref name="partialFolder"/> and hands it to <paramref name="handler"/>;
    /// a handler that throws makes the C-STORE answer Out of Resources (the sender keeps the instance and retries).
    /// </summary>
    public StorageScp(StorageScpOptions options, string partialFolder, Func<ReceivedInstance, CancellationToken, Task> handler, ILogger? log = null)
    {
        _options = options;
        _partialFolder = partialFolder;
        _handler = handler;
        _log = log ?? NullLogger.Instance;
        _associations = new SemaphoreSlim(options.MaxAssociations);
    }

    /// <summary>The port it listens on (the real one when 0 was asked for).</summary>
    public int Port => (_listener?.LocalEndpoint as IPEndPoint)?.Port ?? 0;

    /// <summary>Starts listening; throws when the address cannot be bound.</summary>
    public void Start()
    {
        Directory.CreateDirectory(_partialFolder);
        foreach (var stale in Directory.EnumerateFiles(_partialFolder, "*.partial")) File.Delete(stale); // never answered Success
        _listener = new TcpListener(IPAddress.Parse(_options.BindAddress), _options.Port);
        _listener.Start();
        _accepting = AcceptAsync(_stop.Token);
        _log.LogInformation("DICOM Storage SCP {AeTitle} listening on {Address}:{Port}", _options.AeTitle, _options.BindAddress, Port);
    }

    /// <summary>Stops listening and ends the associations in progress (their unanswered instances are dropped; senders retry).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener?.Stop();
        if (_accepting is not null) await _accepting.ConfigureAwait(false);
        Task[] running;
        lock (_running) running = [.. _running];
        await Task.WhenAll(running).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener!.AcceptTcpClientAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var task = ServeAsync(client, stop);
            lock (_running)
            {
                _running.RemoveAll(t => t.IsCompleted);
                _running.Add(task);
            }
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken stop)
    {
        await Task.Yield();
        using var _ = client;
        client.NoDelay = true;
        var stream = client.GetStream();
        bool admitted = _associations.Wait(0);
        try
        {
            using var association = new Association(this, stream, admitted);
            await association.RunAsync(stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _log.LogDebug("DICOM association from {Peer} ended: {Reason}", client.Client.RemoteEndPoint, e.Message);
        }
        catch (FormatException e)
        {
            _log.LogWarning("DICOM association from {Peer} aborted: {Reason}", client.Client.RemoteEndPoint, e.Message);
            try { await stream.WriteAsync(Pdus.Abort(2), CancellationToken.None).ConfigureAwait(false); } catch (Exception) { /* gone */ }
        }
        finally
        {
            if (admitted) _associations.Release();
        }
    }

    /// <summary>One association: negotiation, then commands until release or abort.</summary>
    private sealed class Association(StorageScp scp, NetworkStream stream, bool admitted) : IDisposable
    {
        private readonly Dictionary<byte, (string AbstractSyntax, string TransferSyntax)> _accepted = [];
        private readonly MemoryStream _command = new();
        private string _callingAe = "";
        private CommandSet? _pending;
        private byte _pendingContext;
        private FileStream? _data;
        private string? _dataFile;
        private long _dataBytes;
        private bool _tooLarge;

        public async Task RunAsync(CancellationToken stop)
        {
            var (type, body) = await ReadPduAsync(64 * 1024, stop).ConfigureAwait(false);
            if (type != PduType.AssociateRequest) throw new FormatException($"the first PDU is {type}, not an A-ASSOCIATE-RQ");
            if (!await NegotiateAsync(AssociateRequest.Parse(body), stop).ConfigureAwait(false)) return;
            while (true)
            {
                (type, body) = await ReadPduAsync(scp._options.MaxPduLength + 6, stop).ConfigureAwait(false);
                switch (type)
                {
                    case PduType.Data:
                        await DataAsync(body, stop).ConfigureAwait(false);
                        break;
                    case PduType.ReleaseRequest:
                        await stream.WriteAsync(Pdus.ReleaseResponse(), stop).ConfigureAwait(false);
                        return;
                    case PduType.Abort:
                        return;
                    default:
                        throw new FormatException($"unexpected {type} PDU during the association");
                }
            }
        }

        public void Dispose()
        {
            _command.Dispose();
            DropData();
        }

        private async Task<bool> NegotiateAsync(AssociateRequest request, CancellationToken stop)
        {
            var options = scp._options;
            byte[]? reject = null;
            if (!admitted) reject = Pdus.Reject(permanent: false, source: 3, reason: 2); // local limit exceeded
            else if (!string.Equals(request.CalledAeTitle, options.AeTitle, StringComparison.Ordinal)) reject = Pdus.Reject(true, 1, 7);
            else if (options.AllowedCallingAeTitles.Count > 0 && !options.AllowedCallingAeTitles.Contains(request.CallingAeTitle, StringComparer.Ordinal))
                reject = Pdus.Reject(true, 1, 3);
            if (reject is not null)
            {
                scp._log.LogWarning("DICOM association from {Calling} to {Called} rejected ({Why})", request.CallingAeTitle, request.CalledAeTitle,
                    !admitted ? "too many associations" : "AE title not allowed");
                await stream.WriteAsync(reject, stop).ConfigureAwait(false);
                return false;
            }
            _callingAe = request.CallingAeTitle;
            var answers = new List<(ProposedContext, byte, string)>();
            foreach (var context in request.Contexts)
            {
                bool known = context.AbstractSyntax == Verification || context.AbstractSyntax.StartsWith(StoragePrefix, StringComparison.Ordinal);
                string? syntax = context.TransferSyntaxes.FirstOrDefault(AcceptedSyntaxes.Contains); // the sender's preference: compressed data stays compressed
                byte result = !known ? (byte)3 : syntax is null ? (byte)4 : (byte)0;
                if (result == 0) _accepted[context.Id] = (context.AbstractSyntax, syntax!);
                answers.Add((context, result, syntax ?? context.TransferSyntaxes.FirstOrDefault() ?? ImplicitLittle));
            }
            await stream.WriteAsync(Pdus.Accept(request, answers, options.MaxPduLength, Edu.Dicom.DicomUids.ImplementationClassUid, "EDU_GATEWAY"), stop)
                .ConfigureAwait(false);
            return true;
        }

        private async Task DataAsync(byte[] pdu, CancellationToken stop)
        {
            for (int at = 0; at < pdu.Length;)
            {
                if (at + 6 > pdu.Length) throw new FormatException("a presentation data value header runs past the end of its PDU");
                int length = checked((int)BinaryPrimitives.ReadUInt32BigEndian(pdu.AsSpan(at)));
                if (length < 2 || at + 4 + length > pdu.Length) throw new FormatException("a presentation data value runs past the end of its PDU");
                byte context = pdu[at + 4], control = pdu[at + 5];
                var fragment = pdu.AsMemory(at + 6, length - 2);
                at += 4 + length;
                if (!_accepted.ContainsKey(context)) throw new FormatException($"data on presentation context {context}, which was not accepted");
                bool isCommand = (control & 1) != 0, last = (control & 2) != 0;
                if (isCommand)
                {
                    if (_command.Length + fragment.Length > 64 * 1024) throw new FormatException("a command set over 64 KiB");
                    _command.Write(fragment.Span);
                    if (last) await CommandAsync(context, stop).ConfigureAwait(false);
                }
                else
                {
                    if (_pending is null || context != _pendingContext) throw new FormatException("a data set without its C-STORE command");
                    await DataSetFragmentAsync(fragment, stop).ConfigureAwait(false);
                    if (last) await StoreAsync(stop).ConfigureAwait(false);
                }
            }
        }

        private async Task CommandAsync(byte context, CancellationToken stop)
        {
            var command = CommandSet.Parse(_command.ToArray());
            _command.SetLength(0);
            ushort field = command.UnsignedShort(CommandSet.CommandField) ?? throw new FormatException("a command without Command Field");
            ushort messageId = command.UnsignedShort(CommandSet.MessageId) ?? 0;
            switch (field)
            {
                case 0x0030: // C-ECHO-RQ
                    await RespondAsync(context, CommandSet.Response(0x8030, messageId, Success, Verification, null), stop).ConfigureAwait(false);
                    break;
                case 0x0001 when command.UnsignedShort(CommandSet.CommandDataSetType) != 0x0101: // C-STORE-RQ, its data set follows
                    _pending = command;
                    _pendingContext = context;
                    BeginData(command, context);
                    break;
                default:
                    scp._log.LogWarning("DICOM command 0x{Field:X4} from {Calling} is not supported here", field, _callingAe);
                    await RespondAsync(context, CommandSet.Response((ushort)(field | 0x8000), messageId, 0x0211, null, null), stop).ConfigureAwait(false); // unrecognized operation
                    break;
            }
        }

        private void BeginData(CommandSet command, byte context)
        {
            string sopClass = command.Text(CommandSet.AffectedSopClassUid) ?? "";
            string sopInstance = command.Text(CommandSet.AffectedSopInstanceUid) ?? "";
            _dataFile = Path.Combine(scp._partialFolder, Guid.NewGuid().ToString("N") + ".partial");
            _data = new FileStream(_dataFile, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            _dataBytes = 0;
            _tooLarge = false;
            Part10.WriteHeader(_data, sopClass, sopInstance, _accepted[context].TransferSyntax, _callingAe);
        }

        private async Task DataSetFragmentAsync(ReadOnlyMemory<byte> fragment, CancellationToken stop)
        {
            _dataBytes += fragment.Length;
            if (_dataBytes > scp._options.MaxInstanceBytes) _tooLarge = true; // keep reading the fragments, answer Out of Resources
            if (!_tooLarge) await _data!.WriteAsync(fragment, stop).ConfigureAwait(false);
        }

        private async Task StoreAsync(CancellationToken stop)
        {
            var command = _pending!;
            byte context = _pendingContext;
            _pending = null;
            ushort messageId = command.UnsignedShort(CommandSet.MessageId) ?? 0;
            string sopClass = command.Text(CommandSet.AffectedSopClassUid) ?? "", sopInstance = command.Text(CommandSet.AffectedSopInstanceUid) ?? "";
            ushort status;
            if (_tooLarge)
            {
                scp._log.LogWarning("C-STORE from {Calling} refused: an instance over {Max} bytes", _callingAe, scp._options.MaxInstanceBytes);
                status = OutOfResources;
                DropData();
            }
            else
            {
                await _data!.FlushAsync(stop).ConfigureAwait(false);
                _data.Flush(flushToDisk: true);
                await _data.DisposeAsync().ConfigureAwait(false);
                _data = null;
                string file = _dataFile!;
                try
                {
                    await scp._handler(new ReceivedInstance(file, _callingAe, sopClass, sopInstance), stop).ConfigureAwait(false);
                    status = Success;
                }
                catch (Abstractions.Errors.InvalidInputException e)
                {
                    scp._log.LogWarning("C-STORE from {Calling} refused: {Reason}", _callingAe, Abstractions.Logging.LogRedaction.Uids(e.Problem));
                    status = CannotUnderstand;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    scp._log.LogError("C-STORE from {Calling} not kept: {Reason}", _callingAe, Abstractions.Logging.LogRedaction.Uids(e.Message));
                    status = OutOfResources;
                }
                finally
                {
                    if (File.Exists(file)) File.Delete(file); // the handler moves what it keeps
                    _dataFile = null;
                }
            }
            await RespondAsync(context, CommandSet.Response(0x8001, messageId, status, sopClass, sopInstance), stop).ConfigureAwait(false);
        }

        private Task RespondAsync(byte context, byte[] command, CancellationToken stop) =>
            stream.WriteAsync(Pdus.Command(context, command), stop).AsTask();

        private void DropData()
        {
            _data?.Dispose();
            _data = null;
            if (_dataFile is not null && File.Exists(_dataFile)) File.Delete(_dataFile);
            _dataFile = null;
        }

        private async Task<(PduType Type, byte[] Body)> ReadPduAsync(long maxLength, CancellationToken stop)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(stop);
            idle.CancelAfter(scp._options.IdleTimeout);
            var header = new byte[6];
            await stream.ReadExactlyAsync(header, idle.Token).ConfigureAwait(false);
            uint length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2));
            if (length > maxLength) throw new FormatException($"a {(PduType)header[0]} PDU of {length} bytes, over the {maxLength} accepted");
            var body = new byte[length];
            await stream.ReadExactlyAsync(body, idle.Token).ConfigureAwait(false);
            return ((PduType)header[0], body);
        }
    }
}

/// <summary>Writes the DICOM Part 10 preamble and file meta information (PS3.10 7.1) in front of a received data set.</summary>
internal static class Part10
{
    public static void WriteHeader(Stream output, string sopClassUid, string sopInstanceUid, string transferSyntaxUid, string sourceAeTitle)
    {
        var meta = new MemoryStream();
        Element(meta, 0x0001, "OB", [0x00, 0x01]);
        Element(meta, 0x0002, "UI", Uid(sopClassUid));
        Element(meta, 0x0003, "UI", Uid(sopInstanceUid));
        Element(meta, 0x0010, "UI", Uid(transferSyntaxUid));
        Element(meta, 0x0012, "UI", Uid(Edu.Dicom.DicomUids.ImplementationClassUid));
        Element(meta, 0x0013, "SH", Text("EDU_GATEWAY"));
        if (sourceAeTitle.Length > 0) Element(meta, 0x0016, "AE", Text(sourceAeTitle));
        output.Write(new byte[128]);
        output.Write("DICM"u8);
        var groupLength = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(groupLength, (uint)meta.Length);
        Element(output, 0x0000, "UL", groupLength);
        meta.Position = 0;
        meta.CopyTo(output);
    }

    private static void Element(Stream output, ushort element, string vr, byte[] value)
    {
        Span<byte> header = stackalloc byte[12];
        header.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(header, 0x0002);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], element);
        header[4] = (byte)vr[0];
        header[5] = (byte)vr[1];
        if (vr == "OB")
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)value.Length); // two reserved bytes, then a 4-byte length
            output.Write(header);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)value.Length);
            output.Write(header[..8]);
        }
        output.Write(value);
    }

    private static byte[] Uid(string uid) => Encoding.ASCII.GetBytes(uid.Length % 2 == 1 ? uid + "\0" : uid);

    private static byte[] Text(string text) => Encoding.ASCII.GetBytes(text.Length % 2 == 1 ? text + " " : text);
}
