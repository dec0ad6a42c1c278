using BaloyiBank.EventHubs.TestDouble;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace BaloyiBank.EventLog.EventHubs.Tests;

/// <summary><c>EventLog:Kind=eventhubs</c> through configuration, as the services resolve it, against the Event Hubs TEST DOUBLE.</summary>
public sealed class EventHubsRegistrationTests : IAsyncLifetime
{
    private EventHubsTestDouble _server = null!;

    public Task InitializeAsync()
    {
        _server = EventHubsTestDouble.Start(new EventHubsTestDoubleOptions { HubName = "bank-events", PartitionCount = 4 });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Kind_eventhubs_from_configuration_builds_the_native_log_which_appends_and_reads_through_the_double()
    {
        await using var provider = Services(new()
        {
            ["EventLog:Kind"] = "EventHubs",
            ["EventLog:Name"] = "bank-events",
            ["EventLog:Partitions"] = "4",
            ["EventLog:EventHubs:ConnectionString"] = _server.ConnectionString,
            ["EventLog:EventHubs:ConsumerGroup"] = "$Default",
        });
        provider.GetRequiredService<IStartupValidator>().Validate();

        var log = Assert.IsType<EventHubsEventLog>(provider.GetRequiredService<IEventLog>());
        var partition = KeyPartitioner.PartitionFor("acct-1", log.PartitionCount);
        await using (var producer = log.CreateProducer())
        {
            var appended = await producer.AppendAsync([new OutgoingEvent("acct-1", "hello"u8.ToArray(), EventHeaders.Empty)]);
            Assert.Equal(new LogPosition(partition, 0), appended.Positions[0]);
        }

        await using var reader = log.OpenReader(partition, StartPosition.Earliest);
        var records = await reader.ReadAsync(10, TimeSpan.FromSeconds(10));
        Assert.Equal("hello"u8.ToArray(), Assert.Single(records).Value.ToArray());
    }

    [Fact]
    public async Task A_partition_count_other_than_the_hubs_fails_the_first_use_with_the_fix()
    {
        await using var provider = Services(new()
        {
            ["EventLog:Kind"] = "eventhubs",
            ["EventLog:Partitions"] = "8",
            ["EventLog:EventHubs:ConnectionString"] = _server.ConnectionString,
        });
        var log = provider.GetRequiredService<IEventLog>();

        var error = await Assert.ThrowsAsync<EventLogConfigurationException>(() => log.DescribeAsync());
        Assert.Contains("Fix: set EventLog__Partitions=4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_up_validation_names_each_bad_option_on_one_line_and_never_shows_the_key()
    {
        const string Key = "c2VjcmV0LWtleS1uZXZlci1zaG93bg==";
        using var provider = Services(new()
        {
            ["EventLog:Kind"] = "eventhubs",
            ["EventLog:Name"] = "bank-events",
            ["EventLog:EventHubs:ConnectionString"] = "Endpoint=sb://bank.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + Key + ";EntityPath=other",
            ["EventLog:EventHubs:FullyQualifiedNamespace"] = "bank.servicebus.windows.net",
            ["EventLog:EventHubs:PrefetchCount"] = "0",
        });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal(3, error.Failures.Count());
        Assert.All(error.Failures, f => Assert.DoesNotContain('\n', f));
        Assert.All(error.Failures, f => Assert.Contains("Fix:", f, StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("EventLog:EventHubs: set exactly one of ConnectionString or FullyQualifiedNamespace (got both)", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("scoped to event hub 'other'", StringComparison.Ordinal) && f.Contains("EventLog__Name=other", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("EventLog:EventHubs:PrefetchCount must be 1-10000 (got 0)", StringComparison.Ordinal));
        Assert.DoesNotContain(Key, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, new EventHubsEventLogOptions { ConnectionString = "Endpoint=sb://b/;SharedAccessKeyName=s;SharedAccessKey=" + Key }.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Another_kind_leaves_the_Event_Hubs_section_unchecked()
    {
        using var provider = Services(new() { ["EventLog:Kind"] = "embedded", ["EventLog:Embedded:Directory"] = Path.GetTempPath(), ["EventLog:EventHubs:PrefetchCount"] = "0" });

        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(0, provider.GetRequiredService<IOptions<EventHubsEventLogOptions>>().Value.PrefetchCount);
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddEventLog(configuration).AddEventHubsEventLog(configuration);
        return services.BuildServiceProvider();
    }
}
