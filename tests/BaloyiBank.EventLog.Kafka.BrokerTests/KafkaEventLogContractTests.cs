using BaloyiBank.EventLog.Tests;
using Xunit;

namespace BaloyiBank.EventLog.Kafka.BrokerTests;

/// <summary>The event-log contract against a real Kafka broker or Event Hubs, a fresh topic (hub) per log.</summary>
[Collection(SharedBrokerGroup.Name)]
public sealed class KafkaEventLogContractTests(KafkaBroker broker) : EventLogContract, IAsyncLifetime
{
    private readonly Dictionary<IEventLog, (string Topic, int Partitions)> _opened = [];

    protected override TimeSpan Quiet => TimeSpan.FromMilliseconds(800);

    // Kafka stamps CreateTime on the producer's clock; Event Hubs stamps its own (LogAppendTime).
    protected override TimeSpan ClockTolerance => TimeSpan.FromSeconds(2);

    protected override async Task<IEventLog> CreateLogAsync(int partitions) => await OpenAsync(broker.NewTopic(partitions), partitions);

    protected override Task<IEventLog> ReopenAsync(IEventLog disposed)
    {
        var (topic, partitions) = _opened[disposed];
        return OpenAsync(topic, partitions);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (!broker.CreatesTopics)
        {
            return;
        }

        foreach (var (topic, partitions) in _opened.Values.Distinct())
        {
            await using var log = KafkaEventLog.Create(broker.Kind, topic, partitions, broker.Options());
            await log.DeleteAsync();
        }
    }

    private async Task<IEventLog> OpenAsync(string topic, int partitions)
    {
        var log = await KafkaEventLog.OpenAsync(broker.Kind, topic, partitions, broker.Options());
        _opened[log] = (topic, partitions);
        return log;
    }
}
