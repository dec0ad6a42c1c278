using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Primitives;
using Azure.Messaging.EventHubs.Producer;
using Xunit;

namespace BaloyiBank.EventHubs.TestDouble.Tests;

/// <summary>With a data folder the double keeps its events across a restart, positions and times unchanged.</summary>
public sealed class PersistenceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("baloyi-ehdouble-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private EventHubsTestDouble Start(string hub = "kept", int partitions = 2) =>
        EventHubsTestDouble.Start(new EventHubsTestDoubleOptions { HubName = hub, PartitionCount = partitions, DataDirectory = _folder });

    private static async Task<List<EventData>> ReadAllAsync(EventHubsTestDouble server, string partition, int count)
    {
        await using var receiver = new PartitionReceiver("$Default", partition, EventPosition.Earliest, server.ConnectionString);
        var events = new List<EventData>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (events.Count < count)
        {
            events.AddRange(await receiver.ReceiveBatchAsync(count - events.Count, TimeSpan.FromSeconds(1), timeout.Token));
        }

        return events;
    }

    [Fact]
    public async Task Events_survive_a_restart_with_the_same_positions_and_sequence_numbers_continue()
    {
        List<EventData> before;
        DateTimeOffset createdBefore;
        await using (var first = Start())
        {
            await using (var producer = new EventHubProducerClient(first.ConnectionString))
            {
                await producer.SendAsync([.. Enumerable.Range(0, 10).Select(i => new EventData($"e{i}") { Properties = { ["i"] = i } })], new SendEventOptions { PartitionId = "1" });
                createdBefore = (await producer.GetEventHubPropertiesAsync()).CreatedOn;
            }

            before = await ReadAllAsync(first, "1", 10);
        }

        await using var second = Start();
        var after = await ReadAllAsync(second, "1", 10);
        Assert.Equal(before.Select(e => (e.SequenceNumber, e.OffsetString, e.EnqueuedTime, e.EventBody.ToString(), (int)e.Properties["i"])),
            after.Select(e => (e.SequenceNumber, e.OffsetString, e.EnqueuedTime, e.EventBody.ToString(), (int)e.Properties["i"])));

        await using var producerAgain = new EventHubProducerClient(second.ConnectionString);
        Assert.Equal(createdBefore, (await producerAgain.GetEventHubPropertiesAsync()).CreatedOn);
        await producerAgain.SendAsync([new EventData("e10")], new SendEventOptions { PartitionId = "1" });
        var properties = await producerAgain.GetPartitionPropertiesAsync("1");
        Assert.Equal(10, properties.LastEnqueuedSequenceNumber);
        Assert.True(await producerAgain.GetPartitionPropertiesAsync("0") is { IsEmpty: true });
    }

    [Fact]
    public async Task A_torn_last_record_is_cut_off_and_a_folder_of_another_hub_shape_is_refused()
    {
        await using (var first = Start())
        {
            await using var producer = new EventHubProducerClient(first.ConnectionString);
            await producer.SendAsync([new EventData("a"), new EventData("b")], new SendEventOptions { PartitionId = "0" });
        }

        // The process died in the middle of writing a third record.
        await using (var file = new FileStream(Path.Combine(_folder, "partition-0.log"), FileMode.Append))
        {
            file.Write([200, 0, 0, 0, 1, 2, 3]);
        }

        await using (var second = Start())
        {
            var events = await ReadAllAsync(second, "0", 2);
            Assert.Equal(["a", "b"], events.Select(e => e.EventBody.ToString()));
            await using var producer = new EventHubProducerClient(second.ConnectionString);
            Assert.Equal(1, (await producer.GetPartitionPropertiesAsync("0")).LastEnqueuedSequenceNumber);
        }

        var refused = Assert.Throws<InvalidOperationException>(() => Start(partitions: 3));
        Assert.Contains("holds hub 'kept' with 2 partitions", refused.Message, StringComparison.Ordinal);
    }
}
