using System.Runtime.InteropServices;
using System.Text;
using BaloyiBank.EventLog.Kafka;
using Confluent.Kafka;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace BaloyiBank.EventLog.Kafka.Tests;

/// <summary>The partition each key goes to, checked against librdkafka's own murmur2 partitioner, and the record codec.</summary>
public sealed partial class PartitionerAndCodecTests
{
    private static readonly string[] Pieces = ["a", "Z", "0", "-", " ", "é", "Ω", "𝄞", "漢", "\n", "acc-", "customer-", ";", "=", ""];

    [Fact]
    public void For_any_key_and_partition_count_the_producer_the_KeyPartitioner_and_librdkafkas_murmur2_agree()
    {
        KafkaNative.EnsureRegistered();
        var keys = Gen.ListOf(Gen.Elements(Pieces)).Select(parts => string.Concat(parts))
            .Zip(Gen.Choose(1, 1024))
            .ToArbitrary();

        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(5_000), Prop.ForAll(keys, sample =>
        {
            var (key, partitions) = sample;
            var expected = KeyPartitioner.PartitionFor(key, partitions);
            return KafkaEventLogProducer.PartitionOf(key, partitions) == expected && LibrdkafkaMurmur2(key, partitions) == expected;
        }));
    }

    [Fact]
    public void Account_ids_like_the_generators_land_where_librdkafka_would_put_them()
    {
        KafkaNative.EnsureRegistered();
        for (var i = 0; i < 20_000; i++)
        {
            var key = $"ACC{i:D8}";
            foreach (var partitions in new[] { 1, 2, 4, 8, 32 })
            {
                Assert.Equal(LibrdkafkaMurmur2(key, partitions), KafkaEventLogProducer.PartitionOf(key, partitions));
            }
        }
    }

    [Fact]
    public void Any_event_encodes_to_a_Kafka_message_and_decodes_to_the_same_key_value_and_headers()
    {
        var text = Gen.ListOf(Gen.Elements(Pieces)).Select(parts => string.Concat(parts));
        var header = text.Zip(text).Select(pair => new KeyValuePair<string, string>(pair.Item1, pair.Item2));
        var events = text.Zip(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b)))
            .Zip(Gen.ListOf(header), (kv, h) => (Key: kv.Item1, Value: kv.Item2, Headers: h.ToArray()))
            .ToArbitrary();

        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(events, sample =>
        {
            var (key, value, headers) = (sample.Key, sample.Value, sample.Headers);
            var outgoing = new OutgoingEvent(key, value, new EventHeaders(headers));
            var message = KafkaRecordCodec.ToMessage(outgoing);
            var record = KafkaRecordCodec.ToRecord(Delivered(message, partition: 3, offset: 41, new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero)));

            return record.Key == key
                && record.Value.ToArray().SequenceEqual(value)
                && record.Headers.SequenceEqual(headers)
                && record.Position == new LogPosition(3, 41)
                && record.EnqueuedAt == new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);
        }));
    }

    [Fact]
    public void Trace_headers_keep_order_duplicates_and_empty_values_and_names_match_case_insensitively()
    {
        var headers = new EventHeaders(
            new(EventHeaders.TraceParent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            new(EventHeaders.TraceState, "congo=t61rcWkgMzE"),
            new("x-dup", "1"),
            new("x-dup", "2"),
            new("x-empty", ""));

        var kafka = KafkaRecordCodec.ToKafka(headers);
        var back = KafkaRecordCodec.FromKafka(kafka);

        Assert.Equal(5, kafka.Count);
        Assert.Equal(headers.ToList(), back.ToList());
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", back["TraceParent"]);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Encoding.UTF8.GetString(kafka.GetLastBytes("traceparent")));
        Assert.Same(EventHeaders.Empty, KafkaRecordCodec.FromKafka(null));
    }

    [Fact]
    public void A_message_without_key_value_or_timestamp_reads_as_empty_strings_bytes_and_the_epoch()
    {
        var record = KafkaRecordCodec.ToRecord(new ConsumeResult<byte[], byte[]>
        {
            Topic = "t",
            Partition = new Partition(0),
            Offset = new Offset(7),
            Message = new Message<byte[], byte[]> { Key = null!, Value = null!, Timestamp = Timestamp.Default },
        });

        Assert.Equal("", record.Key);
        Assert.True(record.Value.IsEmpty);
        Assert.Empty(record.Headers);
        Assert.Equal(DateTimeOffset.UnixEpoch, record.EnqueuedAt);
    }

    [Fact]
    public void A_value_backed_by_a_whole_array_is_sent_without_a_copy_and_a_slice_is_copied()
    {
        var whole = new byte[] { 1, 2, 3 };
        Assert.Same(whole, KafkaRecordCodec.ToMessage(new OutgoingEvent("k", whole, EventHeaders.Empty)).Value);

        var slice = KafkaRecordCodec.ToMessage(new OutgoingEvent("k", whole.AsMemory(1), EventHeaders.Empty)).Value;
        Assert.Equal(new byte[] { 2, 3 }, slice);
    }

    [Theory]
    [InlineData(5, 0, 10, 5)]
    [InlineData(0, 0, 10, 0)]
    [InlineData(10, 0, 10, 10)]
    [InlineData(3, 7, 10, 7)]
    [InlineData(25, 7, 10, 10)]
    [InlineData(0, 0, 0, 0)]
    public void AtOffset_is_assigned_at_the_offset_or_clamped_to_the_retained_range(long wanted, long low, long high, long assigned) =>
        Assert.Equal(assigned, KafkaPartitionReader.AssignOffsetFor(wanted, low, high));

    private static ConsumeResult<byte[], byte[]> Delivered(Message<byte[], byte[]> message, int partition, long offset, DateTimeOffset at)
    {
        message.Timestamp = new Timestamp(at.UtcDateTime, TimestampType.CreateTime);
        return new ConsumeResult<byte[], byte[]> { Topic = "t", Partition = new Partition(partition), Offset = new Offset(offset), Message = message };
    }

    private static unsafe int LibrdkafkaMurmur2(string key, int partitions)
    {
        var bytes = Encoding.UTF8.GetBytes(key);
        fixed (byte* pointer = bytes)
        {
            return PartitionerMurmur2(IntPtr.Zero, pointer, (nuint)bytes.Length, partitions, IntPtr.Zero, IntPtr.Zero);
        }
    }

    // librdkafka's exported murmur2 partitioner (the Java client's): (murmur2(key) & 0x7fffffff) % partition_cnt; it never reads the topic handle.
    [LibraryImport(KafkaNative.LibrdkafkaFile, EntryPoint = "rd_kafka_msg_partitioner_murmur2")]
    private static unsafe partial int PartitionerMurmur2(IntPtr topic, byte* key, nuint keyLength, int partitionCount, IntPtr topicOpaque, IntPtr messageOpaque);
}
