using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace BaloyiBank.EventLog.Kafka;

/// <summary>
/// The port's records as Kafka messages: the key as UTF-8 bytes, the value as is, each header as a Kafka header with a
/// UTF-8 value (order and duplicates kept), the enqueue time as the message timestamp (milliseconds, UTC).
/// </summary>
public static class KafkaRecordCodec
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    public static Message<byte[], byte[]> ToMessage(OutgoingEvent outgoing)
    {
        var message = new Message<byte[], byte[]>
        {
            Key = Utf8.GetBytes(outgoing.Key ?? ""),
            Value = AsArray(outgoing.Value),
        };
        if (outgoing.Headers is { Count: > 0 } headers)
        {
            message.Headers = ToKafka(headers);
        }

        return message;
    }

    public static Headers ToKafka(EventHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var kafka = new Headers();
        foreach (var (name, value) in headers)
        {
            kafka.Add(name, Utf8.GetBytes(value ?? ""));
        }

        return kafka;
    }

    public static EventHeaders FromKafka(Headers? headers)
    {
        if (headers is null || headers.Count == 0)
        {
            return EventHeaders.Empty;
        }

        var pairs = new KeyValuePair<string, string>[headers.Count];
        for (var i = 0; i < pairs.Length; i++)
        {
            var header = headers[i];
            var bytes = header.GetValueBytes();
            pairs[i] = new(header.Key, bytes is null ? "" : Utf8.GetString(bytes));
        }

        return new EventHeaders(pairs);
    }

    public static LogRecord ToRecord(ConsumeResult<byte[], byte[]> result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var message = result.Message;
        return new LogRecord(
            result.Partition.Value,
            result.Offset.Value,
            EnqueuedAt(message.Timestamp),
            message.Key is { Length: > 0 } key ? Utf8.GetString(key) : "",
            message.Value ?? [],
            FromKafka(message.Headers));
    }

    /// <summary>The broker's (LogAppendTime) or the producer's (CreateTime) timestamp as a UTC instant.</summary>
    public static DateTimeOffset EnqueuedAt(Timestamp timestamp) =>
        timestamp.Type == TimestampType.NotAvailable ? DateTimeOffset.UnixEpoch : DateTimeOffset.FromUnixTimeMilliseconds(timestamp.UnixTimestampMs);

    private static byte[] AsArray(ReadOnlyMemory<byte> value) =>
        MemoryMarshal.TryGetArray(value, out var segment) && segment.Array is { } array && segment.Offset == 0 && segment.Count == array.Length
            ? array
            : value.ToArray();
}
