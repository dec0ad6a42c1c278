using BaloyiBank.EventHubs.TestDouble;
using BaloyiBank.EventLog.Tests;
using Xunit;

namespace BaloyiBank.EventLog.EventHubs.Tests;

/// <summary>
/// The event-log contract through the unmodified Azure.Messaging.EventHubs SDK against the Event Hubs TEST DOUBLE
/// (a fresh in-process double, i.e. a fresh hub, per log). Retention is not tested: the double keeps everything.
/// </summary>
public sealed class EventHubsEventLogContractTests : EventLogContract, IAsyncLifetime
{
    private readonly List<EventHubsTestDouble> _servers = [];
    private readonly Dictionary<IEventLog, EventHubsTestDouble> _serverOf = [];

    protected override TimeSpan Quiet => TimeSpan.FromMilliseconds(500);

    protected override async Task<IEventLog> CreateLogAsync(int partitions)
    {
        var server = EventHubsTestDouble.Start(new EventHubsTestDoubleOptions { HubName = "contract", PartitionCount = partitions });
        _servers.Add(server);
        return await OpenAsync(server, partitions);
    }

    protected override Task<IEventLog> ReopenAsync(IEventLog disposed)
    {
        var server = _serverOf[disposed];
        return OpenAsync(server, disposed.PartitionCount);
    }

    protected override async Task<IEventLog?> OpenBesideAsync(IEventLog log) => await OpenAsync(_serverOf[log], log.PartitionCount);

    private async Task<IEventLog> OpenAsync(EventHubsTestDouble server, int partitions)
    {
        var log = await EventHubsEventLog.OpenAsync(server.HubName, partitions, TestOptions.For(server));
        _serverOf[log] = server;
        return log;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }
}

internal static class TestOptions
{
    public static EventHubsEventLogOptions For(EventHubsTestDouble server) => new()
    {
        ConnectionString = server.ConnectionString,
        TryTimeout = TimeSpan.FromSeconds(15),
        MaximumRetries = 2,
    };
}
