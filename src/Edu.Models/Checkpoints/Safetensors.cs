using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Edu.Abstractions.Errors;
using static TorchSharp.torch;

namespace Edu.Models.Checkpoints;

/// <summary>
/// Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON index of
/// dtype/shape/offsets, then the raw little-endian tensor bytes): what Hugging Face's <c>safetensors</c>
/// and therefore PyTorch load with <c>safetensors.torch.load_file</c>.
/// </summary>
public static class Safetensors
{
    /// <summary>Writes <paramref name="tensors"/> (copied to the CPU) to <paramref name="path"/>, replacing it atomically.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var scope = NewDisposeScope();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            var cpu = t.detach().cpu().contiguous();
            var bytes = cpu.bytes.ToArray();
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(cpu.dtype, name),
                ["shape"] = new JsonArray(cpu.shape.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            offset += bytes.Length;
            blobs.Add(bytes);
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int pad = (8 - json.Length % 8) % 8;
        string temp = path + ".tmp";
        using (var stream = File.Create(temp))
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)(json.Length + pad));
            stream.Write(len);
            stream.Write(json);
            for (int i = 0; i < pad; i++) stream.WriteByte((byte)' ');
            foreach (var b in blobs) stream.Write(b);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads every tensor of a safetensors file (CPU tensors, in file order); a malformed file is an <see cref="InvalidInputException"/>.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException(path, "weights file not found");
        using var stream = File.OpenRead(path);
        Span<byte> len = stackalloc byte[8];
        if (stream.Read(len) != 8) throw new InvalidInputException(path, "not a safetensors file (shorter than its header)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (headerLength > 100_000_000 || (long)headerLength > stream.Length - 8)
            throw new InvalidInputException(path, "not a safetensors file (bad header length)");
        var json = new byte[headerLength];
        stream.ReadExactly(json);
        long dataStart = 8 + (long)headerLength;
        JsonObject header;
        try { header = JsonNode.Parse(json)?.AsObject() ?? throw new JsonException("empty header"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        { throw new InvalidInputException(path, $"not a safetensors file (header is not a JSON object: {e.Message})", e); }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__" || node is null) continue;
            try
            {
                var dtype = ParseDType(node["dtype"]!.GetValue<string>());
                var shape = node["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                var offsets = node["data_offsets"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                long length = offsets[1] - offsets[0];
                if (offsets[0] < 0 || length < 0 || dataStart + offsets[1] > stream.Length) throw new FormatException("offsets outside the file");
                var bytes = new byte[length];
                stream.Position = dataStart + offsets[0];
                stream.ReadExactly(bytes);
                var t = empty(shape, dtype);
                if (t.NumberOfElements * t.ElementSize != length) throw new FormatException("byte length does not match dtype and shape");
                t.bytes = bytes;
                result.Add(name, t);
            }
            catch (Exception e) when (e is FormatException or NullReferenceException or InvalidOperationException or IndexOutOfRangeException or EndOfStreamException)
            {
                foreach (var t in result.Values) t.Dispose();
                throw new InvalidInputException(path, $"tensor '{name}' is malformed: {e.Message}", e);
            }
        }
        return result;
    }

    private static string DTypeName(ScalarType t, string name) => t switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"tensor '{name}': dtype {t} has no safetensors name"),
    };

    private static ScalarType ParseDType(string s) => s switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new FormatException($"unsupported dtype '{s}'"),
    };
}
