using System.Buffers.Binary;
using System.Text;
using BaloyiBank.EventLog.Embedded;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace BaloyiBank.EventLog.Tests;

public sealed class PropertyTests : IDisposable
{
    private static readonly string[] TextPieces = ["a", "Z", "0", "-", " ", "é", "Ω", "𝄞", "漢", "\n", "x-trace"];
    private readonly TempFolder _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task However_a_stream_of_events_is_split_into_appends_each_partition_holds_the_same_sequence()
    {
        const int partitions = 3;
        var events = Gen.Choose(0, 15).Zip(Gen.Choose(0, 40));
        var input = Gen.NonEmptyListOf(events)
            .SelectMany(list => Gen.ListOf(Gen.Choose(1, list.Count)).Select(cuts => (Events: list.ToArray(), Cuts: cuts.ToArray())))
            .ToArbitrary();

        // FsCheck blocks on async properties: run it off xUnit's few synchronization-context threads.
        await Task.Run(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(25), Prop.ForAll(input, async sample =>
        {
            await using var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = _root.NewFolder(), Partitions = partitions, SegmentBytes = 4096 });
            await using var producer = log.CreateProducer();
            var outgoing = sample.Events.Select((e, i) => Events.Make($"key-{e.Item1}", $"{i}:{new string('v', e.Item2)}")).ToArray();
            var positions = new List<LogPosition>();
            var at = 0;
            foreach (var cut in sample.Cuts.Append(outgoing.Length).Distinct().Order())
            {
                positions.AddRange((await producer.AppendAsync(outgoing[at..cut])).Positions);
                at = cut;
            }

            for (var p = 0; p < partitions; p++)
            {
                var expected = outgoing.Where(e => KeyPartitioner.PartitionFor(e.Key, partitions) == p).Select(e => Encoding.UTF8.GetString(e.Value.Span)).ToList();
                await using var reader = log.OpenReader(p, StartPosition.Earliest);
                var records = await reader.ReadExactlyAsync(expected.Count);
                if (!expected.SequenceEqual(records.Select(r => r.Text()))
                    || !records.Select(r => r.Offset).SequenceEqual(Enumerable.Range(0, expected.Count).Select(i => (long)i))
                    || !positions.Where(x => x.Partition == p).SequenceEqual(records.Select(r => r.Position)))
                {
                    return false;
                }
            }

            return true;
        })));
    }

    [Fact]
    public void Any_record_encodes_and_decodes_to_itself()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(RecordsArbitrary(), records =>
        {
            using var frame = new FrameBuilder(64);
            foreach (var record in records)
            {
                frame.Add(Encoding.UTF8.GetBytes(record.Key), record.Value.Span, record.Headers);
            }

            var decoder = new RecordDecoder();
            var bytes = frame.Frame;
            var at = FrameFormat.HeaderSize;
            var time = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
            for (var i = 0; i < records.Length; i++)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);
                var decoded = decoder.Decode(0, i, time, bytes.Slice(at + 4, length));
                at += 4 + length;
                if (decoded.Key != records[i].Key
                    || !decoded.Value.Span.SequenceEqual(records[i].Value.Span)
                    || !decoded.Headers.SequenceEqual(records[i].Headers))
                {
                    return false;
                }
            }

            return at == bytes.Length;
        }));
    }

    [Fact]
    public void Any_single_bit_flip_in_a_frame_is_detected()
    {
        var input = RecordsArbitrary().Generator.Zip(Gen.Choose(0, int.MaxValue)).ToArbitrary();
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(input, sample =>
        {
            var (records, seed) = sample;
            using var frame = new FrameBuilder(64);
            foreach (var record in records)
            {
                frame.Add(Encoding.UTF8.GetBytes(record.Key), record.Value.Span, record.Headers);
            }

            frame.WriteHeader(new FrameHeader(frame.Length, 1234, frame.Count, DateTime.UtcNow.Ticks, frame.ComputeBodyCrc()));
            var bytes = frame.Frame.ToArray();
            var bit = seed % (bytes.Length * 8);
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));

            // Either the header no longer parses, or the body no longer matches its checksum.
            return !FrameHeader.TryRead(bytes, out var header)
                || header.FrameLength != bytes.Length
                || Crc32C.Compute(bytes.AsSpan(FrameFormat.HeaderSize)) != header.BodyCrc;
        }));
    }

    private static Arbitrary<OutgoingEvent[]> RecordsArbitrary()
    {
        var text = Gen.ListOf(Gen.Elements(TextPieces)).Select(pieces => string.Concat(pieces.Take(12)));
        var header = text.Zip(text).Select(pair => new KeyValuePair<string, string>("h-" + pair.Item1, pair.Item2));
        var headers = Gen.ListOf(header).Select(list => new EventHeaders(list.Take(4)));
        var value = Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b));
        var record = text.Zip(value).Zip(headers).Select(x => new OutgoingEvent(x.Item1.Item1, x.Item1.Item2, x.Item2));
        return Gen.NonEmptyListOf(record).Select(list => list.Take(20).ToArray()).ToArbitrary();
    }
}
