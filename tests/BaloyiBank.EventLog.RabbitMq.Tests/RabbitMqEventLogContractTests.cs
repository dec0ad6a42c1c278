using BaloyiBank.EventLog.Tests;
using RabbitMQ.Client;
using Xunit;

namespace BaloyiBank.EventLog.RabbitMq.Tests;

/// <summary>The event-log contract against real RabbitMQ streams, a fresh log (stream set) per test.</summary>
[Collection(SharedBrokerGroup.Name)]
public sealed class RabbitMqEventLogContractTests(RabbitMqBroker broker) : EventLogContract, IAsyncLifetime
{
    private readonly Dictionary<IEventLog, (string Name, int Partitions)> _opened = [];

    protected override TimeSpan Quiet => TimeSpan.FromMilliseconds(500);

    // Retention on a real broker runs on real time: x-max-age of 2 s, and segments of 4 KiB so that every
    // appended message (~13 KiB of 50 events) fills a segment of its own and old ones can be dropped whole.
    protected override TimeSpan? Retention => TimeSpan.FromSeconds(2);

    protected override int RetentionEventCount => 500;

    protected override Task<IEventLog> CreateRetentionLogAsync() =>
        OpenAsync($"retention-{Guid.NewGuid():N}"[..20], 1, o =>
        {
            o.Retention = Retention!.Value;
            o.MaxSegmentBytes = 4096;
        });

    /// <summary>
    /// Waits the retention out, then has the broker start a new segment (RabbitMQ evaluates x-max-age when a
    /// segment rolls over) with a fence frame: no events, so what readers see is unchanged; polls until the
    /// log's first offset has moved, i.e. the broker really dropped the old segments.
    /// </summary>
    protected override async Task ApplyRetentionAsync(IEventLog log, TimeSpan elapsed)
    {
        await Task.Delay(Retention!.Value + TimeSpan.FromSeconds(1));
        var stream = $"{log.Name}.p0";
        var factory = new ConnectionFactory { Uri = new Uri(broker.Uri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        for (var sequence = 1; ; sequence++)
        {
            var fence = FrameCodec.EncodeFence(Guid.NewGuid(), sequence, DateTime.UtcNow.Ticks);
            await channel.BasicPublishAsync(string.Empty, stream, mandatory: true, new BasicProperties { Persistent = true }, fence);
            if ((await log.DescribeAsync())[0].FirstOffset > 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"RabbitMQ kept the first segment of {stream} 30 s after its x-max-age of {Retention} passed.");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

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

    // With the quiet the README advises on loaded machines (1 s), which a producer appending without pause never leaves.
    protected override async Task<IEventLog?> OpenBesideAsync(IEventLog log)
    {
        var (name, partitions) = _opened[log];
        return await OpenAsync(name, partitions, o => (o.ProbeTimeout, o.ProbeQuiet) = (TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1)));
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

    private async Task<IEventLog> OpenAsync(string name, int partitions, Action<RabbitMqEventLogOptions>? tune = null)
    {
        var log = await RabbitMqEventLog.OpenAsync(name, partitions, broker.Options(tune));
        _opened[log] = (name, partitions);
        return log;
    }
}
