using System.Buffers;
using System.Text.Json;
using BaloyiBank.Contracts;

namespace BaloyiBank.Generator;

/// <summary>
/// Turns generated records into payload bytes with the contract's source-generated serializer,
/// then damages the bytes of malformed and missing-field records. The damage is placed by bits
/// drawn at generation time, so the bytes are as reproducible as the records. Not thread-safe:
/// one encoder per producing loop.
/// </summary>
internal sealed class PayloadEncoder : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _writer;

    public PayloadEncoder() => _writer = new Utf8JsonWriter(_buffer);

    /// <summary>The payload of one record; valid until the next call.</summary>
    public ReadOnlySpan<byte> Encode(in GeneratedEvent record)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        BankEventSerializer.Serialize(_writer, record.Event);
        _writer.Flush();
        var json = _buffer.WrittenSpan;
        return record.Kind switch
        {
            EventKind.MalformedJson => PayloadDamage.Malform(json, record.DefectVariant, record.DefectSeed),
            EventKind.MissingField => PayloadDamage.DropField(json, PayloadDamage.DroppableFields[record.DefectVariant]),
            _ => json,
        };
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>The byte-level defects: what a broken producer or a lossy hop does to JSON.</summary>
internal static class PayloadDamage
{
    public const int MalformedVariants = 3;
    public const byte Truncated = 0;
    public const byte ControlByte = 1;
    public const byte InvalidUtf8 = 2;

    /// <summary>The required transaction fields a missing-field record may lack, by variant.</summary>
    public static readonly string[] DroppableFields = ["amount", "accountId", "currency", "occurredAt", "transactionId"];

    // Control characters other than JSON whitespace are invalid anywhere in JSON text.
    private static readonly byte[] ControlBytes = [0x00, 0x01, 0x07, 0x08, 0x1B, 0x1F];

    // Latin-1 letters (é è ü ö ã) written raw: lead bytes that the following ASCII byte never completes.
    private static readonly byte[] Latin1Bytes = [0xE9, 0xE8, 0xFC, 0xF6, 0xE3];

    public static byte[] Malform(ReadOnlySpan<byte> json, byte variant, ulong seed)
    {
        var high = (uint)(seed >> 32);
        var low = (uint)seed;
        switch (variant)
        {
            case Truncated:
                // Any proper prefix of an object is unparseable.
                return json[..(1 + Scale(high, json.Length - 1))].ToArray();
            case ControlByte:
                var damaged = json.ToArray();
                damaged[Scale(high, damaged.Length)] = ControlBytes[low % ControlBytes.Length];
                return damaged;
            case InvalidUtf8:
                var bytes = json.ToArray();
                var (start, length) = PickStringValue(json, low);
                bytes[start + Scale(high, length)] = Latin1Bytes[(low >> 16) % Latin1Bytes.Length];
                return bytes;
            default:
                throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown malformation.");
        }
    }

    /// <summary>The same JSON without one top-level property (and its separating comma).</summary>
    public static byte[] DropField(ReadOnlySpan<byte> json, string field)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals(field))
            {
                var start = (int)reader.TokenStartIndex;
                reader.Read();
                reader.Skip();
                var end = (int)reader.BytesConsumed;
                if (end < json.Length && json[end] == (byte)',')
                {
                    end++;
                }
                else if (json[start - 1] == (byte)',')
                {
                    start--;
                }

                return [.. json[..start], .. json[end..]];
            }
        }

        throw new InvalidOperationException($"The payload has no top-level '{field}' to drop.");
    }

    private static int Scale(uint bits, int range) => (int)(((ulong)bits * (ulong)range) >> 32);

    /// <summary>The content (inside the quotes) of one non-empty string value, chosen by <paramref name="bits"/>.</summary>
    private static (int Start, int Length) PickStringValue(ReadOnlySpan<byte> json, uint bits)
    {
        Span<(int, int)> found = stackalloc (int, int)[64];
        var count = 0;
        var reader = new Utf8JsonReader(json);
        while (reader.Read() && count < found.Length)
        {
            if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length > 0)
            {
                found[count++] = ((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
            }
        }

        return found[(int)(bits % (uint)count)];
    }
}

/// <summary>
/// Payload bytes for a batch, copied into fresh 64 KiB chunks that are never reused, so no
/// buffer is overwritten while a log might still hold it. Chunks stay below the large-object heap.
/// </summary>
internal sealed class PayloadArena
{
    private const int ChunkSize = 64 * 1024;
    private byte[] _chunk = [];
    private int _used;

    public ReadOnlyMemory<byte> Copy(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > ChunkSize / 8)
        {
            return payload.ToArray();
        }

        if (_chunk.Length - _used < payload.Length)
        {
            _chunk = new byte[ChunkSize];
            _used = 0;
        }

        payload.CopyTo(_chunk.AsSpan(_used));
        var memory = new ReadOnlyMemory<byte>(_chunk, _used, payload.Length);
        _used += payload.Length;
        return memory;
    }
}
