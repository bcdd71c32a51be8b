using System.Buffers.Binary;
using System.Text;

namespace Edu.Gateway.Dimse;

/// <summary>The PDU types of the DICOM upper layer (PS3.8 9.3) an SCP sees or sends.</summary>
internal enum PduType : byte
{
    AssociateRequest = 0x01,
    AssociateAccept = 0x02,
    AssociateReject = 0x03,
    Data = 0x04,
    ReleaseRequest = 0x05,
    ReleaseResponse = 0x06,
    Abort = 0x07,
}

/// <summary>A presentation context the calling AE proposed: its id, abstract syntax (SOP class) and transfer syntaxes.</summary>
internal sealed record ProposedContext(byte Id, string AbstractSyntax, IReadOnlyList<string> TransferSyntaxes);

/// <summary>An A-ASSOCIATE-RQ, parsed (PS3.8 9.3.2).</summary>
internal sealed record AssociateRequest(string CalledAeTitle, string CallingAeTitle, IReadOnlyList<ProposedContext> Contexts, uint PeerMaxPduLength)
{
    /// <summary>Parses the body of an A-ASSOCIATE-RQ (the bytes after the 6-byte PDU header).</summary>
    public static AssociateRequest Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length < 68) throw new FormatException($"an A-ASSOCIATE-RQ of {body.Length} bytes is shorter than its fixed fields (68)");
        string called = Encoding.ASCII.GetString(body.Slice(4, 16)).Trim(' ', '\0');
        string calling = Encoding.ASCII.GetString(body.Slice(20, 16)).Trim(' ', '\0');
        var contexts = new List<ProposedContext>();
        uint maxPdu = 0;
        int at = 68;
        while (at < body.Length)
        {
            byte type = Item(body, ref at, out var value);
            switch (type)
            {
                case 0x20:
                    contexts.Add(Context(value));
                    break;
                case 0x50:
                    for (int u = 0; u < value.Length;)
                    {
                        byte subType = Item(value, ref u, out var sub);
                        if (subType == 0x51 && sub.Length == 4) maxPdu = BinaryPrimitives.ReadUInt32BigEndian(sub);
                    }
                    break;
            }
        }
        return new AssociateRequest(called, calling, contexts, maxPdu);
    }

    private static ProposedContext Context(ReadOnlySpan<byte> value)
    {
        if (value.Length < 4) throw new FormatException("a presentation context item shorter than 4 bytes");
        byte id = value[0];
        string abstractSyntax = "";
        var syntaxes = new List<string>();
        for (int at = 4; at < value.Length;)
        {
            byte type = Item(value, ref at, out var sub);
            if (type == 0x30) abstractSyntax = Uid(sub);
            else if (type == 0x40) syntaxes.Add(Uid(sub));
        }
        return new ProposedContext(id, abstractSyntax, syntaxes);
    }

    // an item: type (1), reserved (1), length (2, big endian), value
    private static byte Item(ReadOnlySpan<byte> data, ref int at, out ReadOnlySpan<byte> value)
    {
        if (at + 4 > data.Length) throw new FormatException("an item header runs past the end of its PDU");
        byte type = data[at];
        int length = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 2)..]);
        if (at + 4 + length > data.Length) throw new FormatException($"an item of type 0x{type:X2} ({length} bytes) runs past the end of its PDU");
        value = data.Slice(at + 4, length);
        at += 4 + length;
        return type;
    }

    internal static string Uid(ReadOnlySpan<byte> value) => Encoding.ASCII.GetString(value).TrimEnd('\0', ' ');
}

/// <summary>Writes the PDUs an SCP sends.</summary>
internal static class Pdus
{
    /// <summary>DICOM's application context name.</summary>
    public const string ApplicationContext = "1.2.840.10008.3.1.1.1";

    /// <summary>An A-ASSOCIATE-AC for <paramref name="request"/> with one result per proposed context.</summary>
    public static byte[] Accept(AssociateRequest request, IReadOnlyList<(ProposedContext Context, byte Result, string TransferSyntax)> answers,
        uint maxPduLength, string implementationClassUid, string implementationVersion)
    {
        var body = new List<byte>();
        body.AddRange([0x00, 0x01, 0x00, 0x00]);
        body.AddRange(AeTitle(request.CalledAeTitle));
        body.AddRange(AeTitle(request.CallingAeTitle));
        body.AddRange(new byte[32]);
        body.AddRange(Item(0x10, Encoding.ASCII.GetBytes(ApplicationContext)));
        foreach (var (context, result, syntax) in answers)
            body.AddRange(Item(0x21, [context.Id, 0, result, 0, .. Item(0x40, Encoding.ASCII.GetBytes(syntax))]));
        var maxLength = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(maxLength, maxPduLength);
        body.AddRange(Item(0x50, [.. Item(0x51, maxLength), .. Item(0x52, Encoding.ASCII.GetBytes(implementationClassUid)),
            .. Item(0x55, Encoding.ASCII.GetBytes(implementationVersion))]));
        return Pdu(PduType.AssociateAccept, [.. body]);
    }

    /// <summary>An A-ASSOCIATE-RJ: <paramref name="permanent"/> or transient, from the service user (1) or provider (3), with its reason.</summary>
    public static byte[] Reject(bool permanent, byte source, byte reason) => Pdu(PduType.AssociateReject, [0, permanent ? (byte)1 : (byte)2, source, reason]);

    /// <summary>A-RELEASE-RP.</summary>
    public static byte[] ReleaseResponse() => Pdu(PduType.ReleaseResponse, [0, 0, 0, 0]);

    /// <summary>A-ABORT from the service provider (source 2) with <paramref name="reason"/> (0: not specified, 2: unexpected PDU).</summary>
    public static byte[] Abort(byte reason = 0) => Pdu(PduType.Abort, [0, 0, 2, reason]);

    /// <summary>A P-DATA-TF holding the whole command <paramref name="command"/> on <paramref name="contextId"/> in one fragment.</summary>
    public static byte[] Command(byte contextId, byte[] command)
    {
        var item = new byte[6 + command.Length];
        BinaryPrimitives.WriteUInt32BigEndian(item, (uint)(2 + command.Length));
        item[4] = contextId;
        item[5] = 0x03; // command, last fragment
        command.CopyTo(item, 6);
        return Pdu(PduType.Data, item);
    }

    private static byte[] Pdu(PduType type, byte[] body)
    {
        var pdu = new byte[6 + body.Length];
        pdu[0] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(2), (uint)body.Length);
        body.CopyTo(pdu, 6);
        return pdu;
    }

    private static byte[] Item(byte type, byte[] value)
    {
        var item = new byte[4 + value.Length];
        item[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(item.AsSpan(2), checked((ushort)value.Length));
        value.CopyTo(item, 4);
        return item;
    }

    private static byte[] AeTitle(string title) => Encoding.ASCII.GetBytes(title.PadRight(16)[..16]);
}

/// <summary>
/// A DIMSE command set (PS3.7 9.3, 6.3.1): group 0000 in implicit VR little endian, which is how every command travels
/// whatever the presentation context's transfer syntax.
/// </summary>
internal sealed class CommandSet
{
    public const uint AffectedSopClassUid = 0x00000002, CommandField = 0x00000100, MessageId = 0x00000110, MessageIdBeingRespondedTo = 0x00000120,
        CommandDataSetType = 0x00000800, Status = 0x00000900, AffectedSopInstanceUid = 0x00001000;

    private readonly Dictionary<uint, byte[]> _values = [];

    /// <summary>Parses a command set.</summary>
    public static CommandSet Parse(ReadOnlySpan<byte> data)
    {
        var command = new CommandSet();
        for (int at = 0; at < data.Length;)
        {
            if (at + 8 > data.Length) throw new FormatException("a command element header runs past the end of the command");
            uint tag = (uint)BinaryPrimitives.ReadUInt16LittleEndian(data[at..]) << 16 | BinaryPrimitives.ReadUInt16LittleEndian(data[(at + 2)..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(data[(at + 4)..]);
            if (tag >> 16 != 0) throw new FormatException($"element ({tag >> 16:X4},{tag & 0xFFFF:X4}) in a command set (group 0000 only)");
            if (length > data.Length - at - 8) throw new FormatException($"command element (0000,{tag & 0xFFFF:X4}) runs past the end of the command");
            command._values[tag] = data.Slice(at + 8, (int)length).ToArray();
            at += 8 + (int)length;
        }
        return command;
    }

    /// <summary>A UID (or other text) element, trimmed; null when absent.</summary>
    public string? Text(uint tag) => _values.TryGetValue(tag, out var v) ? UpperLayerText(v) : null;

    /// <summary>A US element; null when absent or not two bytes.</summary>
    public ushort? UnsignedShort(uint tag) => _values.TryGetValue(tag, out var v) && v.Length == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(v) : null;

    /// <summary>A response command: the elements in tag order after their group length.</summary>
    public static byte[] Response(ushort commandField, ushort messageId, ushort status, string? sopClassUid, string? sopInstanceUid)
    {
        var elements = new SortedDictionary<uint, byte[]>
        {
            [CommandField] = U16(commandField),
            [MessageIdBeingRespondedTo] = U16(messageId),
            [CommandDataSetType] = U16(0x0101), // no data set follows
            [Status] = U16(status),
        };
        if (sopClassUid is not null) elements[AffectedSopClassUid] = Padded(sopClassUid);
        if (sopInstanceUid is not null) elements[AffectedSopInstanceUid] = Padded(sopInstanceUid);
        int length = elements.Values.Sum(v => 8 + v.Length);
        var output = new byte[12 + length];
        Element(output, 0, 0x00000000, BitConverter.GetBytes((uint)length)); // group length, little endian
        int at = 12;
        foreach (var (tag, value) in elements) at = Element(output, at, tag, value);
        return output;
    }

    private static int Element(byte[] output, int at, uint tag, byte[] value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan(at), (ushort)(tag >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan(at + 2), (ushort)tag);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(at + 4), (uint)value.Length);
        value.CopyTo(output, at + 8);
        return at + 8 + value.Length;
    }

    private static byte[] U16(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Padded(string uid) => Encoding.ASCII.GetBytes(uid.Length % 2 == 1 ? uid + "\0" : uid);

    private static string UpperLayerText(byte[] value) => Encoding.ASCII.GetString(value).TrimEnd('\0', ' ');
}
