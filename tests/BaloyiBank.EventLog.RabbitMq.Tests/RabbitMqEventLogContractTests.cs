using BaloyiBank.EventLog.Tests;
using Xunit;

namespace BaloyiBank.EventLog.RabbitMq.Tests;

/// <summary>The event-log contract against real RabbitMQ streams, a fresh log (stream set) per test.</summary>
[Collection(SharedBrokerGroup.Name)]
public sealed class RabbitMqEventLogContractTests(RabbitMqBroker broker) : EventLogContract, IAsyncLifetime
{
    private readonly Dictionary<IEventLog, (string Name, int Partitions)> _opened = [];

    protected override TimeSpan Quiet => TimeSpan.FromMilliseconds(500);

    protected override async Task<IEventLog> CreateLogAsync(int partitions)
    {
        var name = $"contract-{Guid.NewGuid():N}"[..20];
        return await OpenAsync(name, partitions);
    }

    protected override Task<IEventLog> ReopenAsync(IEventLog disposed)
    {
        var (name, partitions) = _opened[disposed];
        return OpenAsync(name, partitions);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (name, partitions) in _opened.Values.Distinct())
        {
            await using var log = await RabbitMqEventLog.OpenAsync(name, partitions, broker.Options());
            await log.DeleteAsync();
        }
    }

    private async Task<IEventLog> OpenAsync(string name, int partitions)
    {
        var log = await RabbitMqEventLog.OpenAsync(name, partitions, broker.Options());
        _opened[log] = (name, partitions);
        return log;
    }
}
