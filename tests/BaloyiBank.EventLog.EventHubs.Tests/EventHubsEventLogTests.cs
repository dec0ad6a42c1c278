using BaloyiBank.EventHubs.TestDouble;
using Xunit;

namespace BaloyiBank.EventLog.EventHubs.Tests;

/// <summary>What is particular to the Event Hubs backend: options, the hub's shape, headers as application properties.</summary>
public sealed class EventHubsEventLogTests : IAsyncLifetime
{
    private EventHubsTestDouble _server = null!;

    public Task InitializeAsync()
    {
        _server = EventHubsTestDouble.Start(new EventHubsTestDoubleOptions { HubName = "bank-events", PartitionCount = 4, ConsumerGroups = ["cleansing"] });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Opening_with_another_partition_count_than_the_hub_has_names_the_fix()
    {
        var ex = await Assert.ThrowsAsync<EventLogConfigurationException>(() => EventHubsEventLog.OpenAsync("bank-events", 8, TestOptions.For(_server)));
        Assert.Contains("EventLog__Partitions=4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_need_exactly_one_way_to_connect_and_never_echo_the_key()
    {
        Assert.Contains(new EventHubsEventLogOptions().Validate("bank-events"), f => f.Contains("neither", StringComparison.Ordinal));
        Assert.Contains(
            new EventHubsEventLogOptions { ConnectionString = _server.ConnectionString, FullyQualifiedNamespace = "bank.servicebus.windows.net" }.Validate("bank-events"),
            f => f.Contains("both", StringComparison.Ordinal));

        var wrongHub = new EventHubsEventLogOptions { ConnectionString = _server.ConnectionString }.Validate("other-hub");
        var failure = Assert.Single(wrongHub);
        Assert.Contains("scoped to event hub 'bank-events' (EntityPath)", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("dGVzdA==", failure, StringComparison.Ordinal);

        var malformed = Assert.Single(new EventHubsEventLogOptions { ConnectionString = "SharedAccessKeyName=x;SharedAccessKey=c2VjcmV0LWtleQ==" }.Validate("bank-events"));
        Assert.Contains("not an Event Hubs connection string", malformed, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0LWtleQ==", malformed, StringComparison.Ordinal);

        Assert.Contains(new EventHubsEventLogOptions { FullyQualifiedNamespace = "sb://bank.servicebus.windows.net/" }.Validate("bank-events"), f => f.Contains("host name", StringComparison.Ordinal));
        Assert.Empty(new EventHubsEventLogOptions { FullyQualifiedNamespace = "bank.servicebus.windows.net", ConsumerGroup = "cleansing" }.Validate("bank-events"));
    }

    [Fact]
    public async Task Headers_travel_as_application_properties_readable_by_any_Event_Hubs_consumer()
    {
        await using var log = await EventHubsEventLog.OpenAsync("bank-events", 4, TestOptions.For(_server));
        await using var producer = log.CreateProducer();
        var headers = new EventHeaders(new KeyValuePair<string, string>(EventHeaders.TraceParent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        var result = await producer.AppendAsync([new OutgoingEvent("account-1", "hello"u8.ToArray(), headers)]);

        var position = Assert.Single(result.Positions);
        await using var receiver = new Azure.Messaging.EventHubs.Primitives.PartitionReceiver(
            "cleansing", position.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture), Azure.Messaging.EventHubs.Consumer.EventPosition.Earliest, _server.ConnectionString);
        var received = (await receiver.ReceiveBatchAsync(10, TimeSpan.FromSeconds(10))).Single();
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", received.Properties["traceparent"]);
        Assert.Equal("account-1", received.Properties["x-baloyi-key"]);
        Assert.Equal(position.Offset, received.SequenceNumber);
    }

    [Fact]
    public async Task Duplicate_or_reserved_header_names_are_refused_before_anything_is_sent()
    {
        await using var log = await EventHubsEventLog.OpenAsync("bank-events", 4, TestOptions.For(_server));
        await using var producer = log.CreateProducer();
        var duplicate = new EventHeaders(new("a", "1"), new("a", "2"));
        await Assert.ThrowsAsync<ArgumentException>(() => producer.AppendAsync([new OutgoingEvent("k", "v"u8.ToArray(), duplicate)]));
        await Assert.ThrowsAsync<ArgumentException>(() => producer.AppendAsync([new OutgoingEvent("k", "v"u8.ToArray(), new EventHeaders(new KeyValuePair<string, string>("x-baloyi-key", "no")))]));
        Assert.All(await log.DescribeAsync(), info => Assert.True(info.IsEmpty));
    }
}
