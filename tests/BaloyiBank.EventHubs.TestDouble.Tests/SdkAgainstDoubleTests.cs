using System.Text;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Primitives;
using Azure.Messaging.EventHubs.Producer;
using Xunit;

namespace BaloyiBank.EventHubs.TestDouble.Tests;

/// <summary>The unmodified Azure.Messaging.EventHubs SDK against the test double, started in-process on a free port.</summary>
public sealed class SdkAgainstDoubleTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly EventHubsRetryOptions Retry = new() { MaximumRetries = 2, TryTimeout = TimeSpan.FromSeconds(15), Delay = TimeSpan.FromMilliseconds(100) };

    private EventHubsTestDouble _server = null!;

    public Task InitializeAsync()
    {
        _server = EventHubsTestDouble.Start(new EventHubsTestDoubleOptions { HubName = "payments", PartitionCount = 3, ConsumerGroups = ["cleansing"] });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private EventHubProducerClient Producer() => new(_server.ConnectionString, new EventHubProducerClientOptions { RetryOptions = Retry });

    private PartitionReceiver Receiver(string partition, EventPosition position, long? ownerLevel = null, string group = "$Default") =>
        new(group, partition, position, _server.ConnectionString, new PartitionReceiverOptions { OwnerLevel = ownerLevel, RetryOptions = Retry });

    private static EventData Event(string body, int n)
    {
        var e = new EventData(Encoding.UTF8.GetBytes(body)) { MessageId = $"m-{n}", ContentType = "text/plain" };
        e.Properties["n"] = n;
        e.Properties["traceparent"] = $"00-{n:x32}-{n:x16}-01";
        return e;
    }

    private static async Task<List<EventData>> ReceiveAsync(PartitionReceiver receiver, int count)
    {
        var received = new List<EventData>();
        using var timeout = new CancellationTokenSource(Wait);
        while (received.Count < count)
        {
            received.AddRange(await receiver.ReceiveBatchAsync(count - received.Count, TimeSpan.FromSeconds(1), timeout.Token));
        }

        return received;
    }

    private async Task<IReadOnlyList<EventData>> SendAndReadAllAsync(string partition, int count)
    {
        await using (var producer = Producer())
        {
            using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = partition });
            for (var n = 0; n < count; n++)
            {
                Assert.True(batch.TryAdd(Event($"event {n}", n)));
            }

            await producer.SendAsync(batch);
        }

        await using var receiver = Receiver(partition, EventPosition.Earliest);
        return await ReceiveAsync(receiver, count);
    }

    [Fact]
    public async Task Hub_and_partition_properties_come_from_the_management_node()
    {
        await using var producer = Producer();
        var hub = await producer.GetEventHubPropertiesAsync();
        Assert.Equal("payments", hub.Name);
        Assert.Equal(["0", "1", "2"], hub.PartitionIds);
        Assert.InRange(hub.CreatedOn, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));

        var empty = await producer.GetPartitionPropertiesAsync("2");
        Assert.True(empty.IsEmpty);
        Assert.Equal(-1, empty.LastEnqueuedSequenceNumber);

        using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = "2" });
        Assert.True(batch.TryAdd(Event("a", 0)));
        Assert.True(batch.TryAdd(Event("b", 1)));
        await producer.SendAsync(batch);

        var after = await producer.GetPartitionPropertiesAsync("2");
        Assert.False(after.IsEmpty);
        Assert.Equal("2", after.Id);
        Assert.Equal(0, after.BeginningSequenceNumber);
        Assert.Equal(1, after.LastEnqueuedSequenceNumber);
        Assert.True(long.Parse(after.LastEnqueuedOffsetString, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.InRange(after.LastEnqueuedTime, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));

        var unknown = await Assert.ThrowsAnyAsync<Exception>(() => producer.GetPartitionPropertiesAsync("7"));
        Assert.Contains("could not be found", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_sent_to_a_partition_is_read_back_in_order_with_properties_and_annotations()
    {
        var events = await SendAndReadAllAsync("1", 50);

        Assert.Equal(Enumerable.Range(0, 50).Select(n => (long)n), events.Select(e => e.SequenceNumber));
        Assert.Equal(Enumerable.Range(0, 50).Select(n => $"event {n}"), events.Select(e => e.EventBody.ToString()));
        Assert.Equal(49, (int)events[^1].Properties["n"]);
        Assert.Equal($"00-{49:x32}-{49:x16}-01", events[^1].Properties["traceparent"]);
        Assert.Equal("m-7", events[7].MessageId);
        Assert.Equal("text/plain", events[7].ContentType);
        // Offsets are byte positions: strictly increasing, and not the sequence numbers.
        var offsets = events.Select(e => long.Parse(e.OffsetString, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(0, offsets[0]);
        Assert.True(offsets.Zip(offsets.Skip(1)).All(p => p.Second > p.First + 1));
        Assert.All(events, e => Assert.InRange(e.EnqueuedTime, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1)));
    }

    [Fact]
    public async Task A_batch_near_the_message_size_limit_crosses_many_frames_intact()
    {
        await using var producer = Producer();
        using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = "2" });
        Assert.Equal(1024 * 1024, batch.MaximumSizeInBytes);
        var n = 0;
        while (batch.TryAdd(new EventData(Enumerable.Repeat((byte)(n % 251), 100_000).ToArray()) { MessageId = $"big-{n}" }))
        {
            n++;
        }

        Assert.InRange(n, 9, 10);
        await producer.SendAsync(batch);
        using var empty = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = "2" });
        Assert.False(empty.TryAdd(new EventData(new byte[1024 * 1024])));

        await using var receiver = Receiver("2", EventPosition.Earliest);
        var events = await ReceiveAsync(receiver, n);
        Assert.Equal(Enumerable.Range(0, n).Select(i => $"big-{i}"), events.Select(e => e.MessageId));
        Assert.All(events.Select((e, i) => (e, i)), x => Assert.True(x.e.EventBody.ToArray().All(b => b == (byte)(x.i % 251)) && x.e.EventBody.ToArray().Length == 100_000));
    }

    [Fact]
    public async Task Reading_starts_at_an_offset_a_sequence_number_or_an_enqueued_time()
    {
        var all = await SendAndReadAllAsync("0", 20);
        var tenth = all[10];

        await using (var fromOffsetInclusive = Receiver("0", EventPosition.FromOffset(tenth.OffsetString, isInclusive: true)))
        {
            Assert.Equal(10, (await ReceiveAsync(fromOffsetInclusive, 1))[0].SequenceNumber);
        }

        await using (var fromOffsetExclusive = Receiver("0", EventPosition.FromOffset(tenth.OffsetString, isInclusive: false)))
        {
            Assert.Equal(11, (await ReceiveAsync(fromOffsetExclusive, 1))[0].SequenceNumber);
        }

        await using (var fromSequence = Receiver("0", EventPosition.FromSequenceNumber(15, isInclusive: true)))
        {
            var rest = await ReceiveAsync(fromSequence, 5);
            Assert.Equal([15L, 16, 17, 18, 19], rest.Select(e => e.SequenceNumber));
        }

        await using (var afterSequence = Receiver("0", EventPosition.FromSequenceNumber(15, isInclusive: false)))
        {
            Assert.Equal(16, (await ReceiveAsync(afterSequence, 1))[0].SequenceNumber);
        }

        // A second batch, enqueued strictly later than the first: reading from a time in between gets only it.
        var cut = all[^1].EnqueuedTime;
        await Task.Delay(TimeSpan.FromMilliseconds(20));
        await using (var producer = Producer())
        {
            await producer.SendAsync([Event("late", 99)], new SendEventOptions { PartitionId = "0" });
        }

        await using var fromTime = Receiver("0", EventPosition.FromEnqueuedTime(cut));
        var late = await ReceiveAsync(fromTime, 1);
        Assert.Equal("late", late[0].EventBody.ToString());
        Assert.Equal(20, late[0].SequenceNumber);

        await using var latest = Receiver("0", EventPosition.Latest);
        Assert.Empty(await latest.ReceiveBatchAsync(10, TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task A_receiver_waits_for_events_sent_after_it_opened()
    {
        await using var receiver = Receiver("2", EventPosition.Earliest, group: "cleansing");
        var receiving = ReceiveAsync(receiver, 3);
        await using (var producer = Producer())
        {
            await producer.SendAsync([Event("x", 0), Event("y", 1), Event("z", 2)], new SendEventOptions { PartitionId = "2" });
        }

        Assert.Equal(["x", "y", "z"], (await receiving).Select(e => e.EventBody.ToString()));
    }

    [Fact]
    public async Task A_start_past_the_end_skips_later_events_until_one_reaches_it()
    {
        await using var producer = Producer();
        await producer.SendAsync([Event("a", 0), Event("b", 1)], new SendEventOptions { PartitionId = "1" });

        // Sequence numbers 2 and 3 do not exist yet; a receiver from 3 must not get 2 when it comes.
        await using var fromThree = Receiver("1", EventPosition.FromSequenceNumber(3, isInclusive: true));
        Assert.Empty(await fromThree.ReceiveBatchAsync(10, TimeSpan.FromMilliseconds(300)));
        await producer.SendAsync([Event("c", 2), Event("d", 3), Event("e", 4)], new SendEventOptions { PartitionId = "1" });

        var received = await ReceiveAsync(fromThree, 2);
        Assert.Equal(["d", "e"], received.Select(e => e.EventBody.ToString()));
        Assert.Equal([3L, 4L], received.Select(e => e.SequenceNumber));
    }

    [Fact]
    public async Task Sends_to_the_hub_keep_the_partition_key_and_spread_without_one()
    {
        await using (var producer = Producer())
        {
            await producer.SendAsync([Event("k1", 0), Event("k2", 1)], new SendEventOptions { PartitionKey = "account-42" });
            for (var n = 0; n < 6; n++)
            {
                await producer.SendAsync([Event($"rr{n}", n)]);
            }
        }

        var keyed = new List<(string Partition, EventData Event)>();
        var total = 0;
        await using (var client = new EventHubConsumerClient("$Default", _server.ConnectionString))
        {
            foreach (var partition in await client.GetPartitionIdsAsync())
            {
                var properties = await client.GetPartitionPropertiesAsync(partition);
                if (properties.IsEmpty)
                {
                    continue;
                }

                var count = (int)properties.LastEnqueuedSequenceNumber + 1;
                total += count;
                await using var receiver = Receiver(partition, EventPosition.Earliest);
                keyed.AddRange((await ReceiveAsync(receiver, count)).Where(e => e.PartitionKey is not null).Select(e => (partition, e)));
            }
        }

        Assert.Equal(8, total);
        Assert.Equal(["k1", "k2"], keyed.Select(k => k.Event.EventBody.ToString()));
        Assert.All(keyed, k => Assert.Equal("account-42", k.Event.PartitionKey));
        Assert.Single(keyed.Select(k => k.Partition).Distinct());
    }

    [Fact]
    public async Task A_higher_owner_level_displaces_the_current_owner_and_a_lower_one_is_refused()
    {
        await using var first = Receiver("1", EventPosition.Earliest, ownerLevel: 1);
        Assert.Empty(await first.ReceiveBatchAsync(1, TimeSpan.FromMilliseconds(300)));

        await using var second = Receiver("1", EventPosition.Earliest, ownerLevel: 2);
        Assert.Empty(await second.ReceiveBatchAsync(1, TimeSpan.FromMilliseconds(300)));

        var stolen = await Assert.ThrowsAsync<EventHubsException>(async () =>
        {
            using var timeout = new CancellationTokenSource(Wait);
            while (true)
            {
                await first.ReceiveBatchAsync(1, TimeSpan.FromMilliseconds(200), timeout.Token);
            }
        });
        Assert.Equal(EventHubsException.FailureReason.ConsumerDisconnected, stolen.Reason);

        await using var lower = Receiver("1", EventPosition.Earliest, ownerLevel: 1);
        var refused = await Assert.ThrowsAsync<EventHubsException>(() => lower.ReceiveBatchAsync(1, TimeSpan.FromMilliseconds(300)));
        Assert.Equal(EventHubsException.FailureReason.ConsumerDisconnected, refused.Reason);

        await using var withoutLevel = Receiver("1", EventPosition.Earliest);
        var refusedPlain = await Assert.ThrowsAsync<EventHubsException>(() => withoutLevel.ReceiveBatchAsync(1, TimeSpan.FromMilliseconds(300)));
        Assert.Equal(EventHubsException.FailureReason.ConsumerDisconnected, refusedPlain.Reason);

        // The owner is still served.
        await using (var producer = Producer())
        {
            await producer.SendAsync([Event("owned", 0)], new SendEventOptions { PartitionId = "1" });
        }

        Assert.Equal("owned", (await ReceiveAsync(second, 1))[0].EventBody.ToString());
    }

    [Fact]
    public async Task A_receiver_tracking_last_enqueued_event_properties_sees_the_partition_end()
    {
        await using (var producer = Producer())
        {
            await producer.SendAsync([.. Enumerable.Range(0, 5).Select(n => Event($"t{n}", n))], new SendEventOptions { PartitionId = "0" });
        }

        await using var receiver = new PartitionReceiver("$Default", "0", EventPosition.Earliest, _server.ConnectionString,
            new PartitionReceiverOptions { TrackLastEnqueuedEventProperties = true, RetryOptions = Retry });
        var first = await ReceiveAsync(receiver, 1);
        var last = receiver.ReadLastEnqueuedEventProperties();

        Assert.Equal("t0", first[0].EventBody.ToString());
        Assert.Equal(4, last.SequenceNumber);
        Assert.NotNull(last.EnqueuedTime);
        Assert.NotNull(last.LastReceivedTime);
        Assert.Equal("m-0", first[0].MessageId);
    }

    [Fact]
    public async Task Unknown_consumer_groups_and_partitions_are_not_found()
    {
        await using var receiver = Receiver("0", EventPosition.Earliest, group: "nobody");
        var ex = await Assert.ThrowsAsync<EventHubsException>(() => receiver.ReceiveBatchAsync(1, TimeSpan.FromMilliseconds(300)));
        Assert.Equal(EventHubsException.FailureReason.ResourceNotFound, ex.Reason);
    }
}
