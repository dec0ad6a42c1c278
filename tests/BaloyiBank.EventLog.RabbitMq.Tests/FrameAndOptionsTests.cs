using BaloyiBank.ServiceDefaults;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace BaloyiBank.EventLog.RabbitMq.Tests;

/// <summary>The frame format and the configuration, without a broker.</summary>
public sealed class FrameAndOptionsTests
{
    private static readonly string[] Pieces = ["a", "Z", "0", "-", " ", "é", "Ω", "𝄞", "漢", "\n", ""];

    [Fact]
    public void Any_events_round_trip_through_a_frame_with_dense_offsets()
    {
        var text = Gen.ArrayOf(Gen.Elements(Pieces)).Select(parts => string.Concat(parts));
        var header = text.Zip(text).Select(pair => new KeyValuePair<string, string>(pair.Item1, pair.Item2));
        var outgoing = text.Zip(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b))).Zip(Gen.ArrayOf(header))
            .Select(t => new OutgoingEvent(t.Item1.Item1, t.Item1.Item2, new EventHeaders(t.Item2)));
        var input = Gen.NonEmptyListOf(outgoing).Zip(Gen.Choose(0, 1_000_000)).ToArbitrary();

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), Prop.ForAll(input, sample =>
        {
            var (events, first) = (sample.Item1.ToArray(), (long)sample.Item2);
            var bytes = events.Sum(e => FrameCodec.RecordSize(e));
            var writer = Guid.NewGuid();
            var body = FrameCodec.Encode(events, 0, events.Length, bytes, new FrameHeader(false, first, events.Length, 638_000_000_000_000_000, writer, 9));

            var read = FrameCodec.TryReadHeader(body);
            Assert.NotNull(read);
            Assert.Equal((first, events.Length, writer, 9L, false), (read.Value.FirstOffset, read.Value.Count, read.Value.WriterId, read.Value.WriterSequence, read.Value.IsFence));
            var records = FrameCodec.Decode(body, read.Value, 3);
            Assert.Equal(events.Select((_, i) => first + i), records.Select(r => r.Offset));
            Assert.Equal(events.Select(e => e.Key), records.Select(r => r.Key));
            Assert.Equal(events.Select(e => Convert.ToHexString(e.Value.Span)), records.Select(r => Convert.ToHexString(r.Value.Span)));
            Assert.Equal(events.Select(e => e.Headers.ToList()), records.Select(r => r.Headers.ToList()));
            Assert.All(records, r => Assert.Equal(3, r.Partition));
        }));
    }

    [Fact]
    public void A_fence_has_no_events_and_foreign_messages_are_not_frames()
    {
        var fence = FrameCodec.TryReadHeader(FrameCodec.EncodeFence(Guid.NewGuid(), 4, 1));
        Assert.True(fence!.Value.IsFence);
        Assert.Equal(0, fence.Value.Count);
        Assert.Null(FrameCodec.TryReadHeader(Encoding.UTF8.GetBytes("{\"hello\":\"world\"} and some more text to pass 56 bytes")));
        Assert.Null(FrameCodec.TryReadHeader([1, 2, 3]));
    }

    [Fact]
    public void A_truncated_frame_is_reported_as_corruption_not_returned()
    {
        OutgoingEvent[] events = [new("k", new byte[100], EventHeaders.Empty), new("k2", new byte[100], EventHeaders.Empty)];
        var body = FrameCodec.Encode(events, 0, 2, events.Sum(e => FrameCodec.RecordSize(e)), new FrameHeader(false, 0, 2, 1, Guid.Empty, 1));
        var cut = body[..^50];

        Assert.Throws<EventLogCorruptionException>(() => FrameCodec.Decode(cut, FrameCodec.TryReadHeader(cut)!.Value, 0));
    }

    [Fact]
    public void The_uri_password_is_masked()
    {
        Assert.Equal("amqp://app:***@broker.example:5672/prod", UriMasking.Mask("amqp://app:s3cr3t@broker.example:5672/prod"));
        Assert.Equal("amqps://app:***@host/", UriMasking.Mask("amqps://app:p@ss@host/"));
        Assert.Equal("amqp://127.0.0.1:5672/", UriMasking.Mask("amqp://127.0.0.1:5672/"));
    }

    [Fact]
    public void Bad_options_are_named_with_the_fix_and_the_password_never_shows()
    {
        var options = new RabbitMqEventLogOptions { Uri = "http://app:s3cr3t@host/", MaxEventsPerMessage = 0, RetryAttempts = -1 };

        var failures = RabbitMqEventLogOptionsValidator.Check(options).Failures;

        Assert.Contains(failures, f => f.StartsWith("EventLog:RabbitMq:Uri must be an absolute amqp:// or amqps:// URI", StringComparison.Ordinal) && f.Contains("Fix: set EventLog__RabbitMq__Uri", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("EventLog:RabbitMq:MaxEventsPerMessage must be between 1 and 100000 (got 0)", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("EventLog:RabbitMq:RetryAttempts", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("s3cr3t", StringComparison.Ordinal));
        Assert.Empty(RabbitMqEventLogOptionsValidator.Check(new RabbitMqEventLogOptions()).Failures);
    }

    [Fact]
    public void AddRabbitMqEventLog_serves_kind_rabbitmq_and_leaves_embedded_alone()
    {
        using var temp = new Contract.TempDirectory();
        var embedded = Build(new() { ["EventLog:Kind"] = "embedded", ["EventLog:Embedded:Directory"] = temp.Path, ["EventLog:RabbitMq:Uri"] = "not a uri" });
        Assert.Equal("BaloyiBank.EventLog.Embedded.EmbeddedEventLog", embedded.GetRequiredService<IEventLog>().GetType().FullName);

        var rabbit = Build(new() { ["EventLog:Kind"] = "rabbitmq", ["EventLog:Name"] = "di-check", ["EventLog:Partitions"] = "3", ["EventLog:RabbitMq:MaxEventsPerMessage"] = "77" });
        var log = Assert.IsType<RabbitMqEventLog>(rabbit.GetRequiredService<IEventLog>());
        Assert.Equal(("di-check", 3), (log.Name, log.PartitionCount));
        Assert.Equal(77, rabbit.GetRequiredService<IOptions<RabbitMqEventLogOptions>>().Value.MaxEventsPerMessage);

        var bad = Build(new() { ["EventLog:Kind"] = "rabbitmq", ["EventLog:RabbitMq:Uri"] = "amqp://user:hunter2@" });
        var error = Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IOptions<RabbitMqEventLogOptions>>().Value);
        Assert.Contains("EventLog:RabbitMq:Uri", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);

        static ServiceProvider Build(Dictionary<string, string?> settings)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
            return new ServiceCollection().AddLogging().AddEventLog(configuration).AddRabbitMqEventLog(configuration).BuildServiceProvider();
        }
    }
}
