using System.Diagnostics;
using System.Globalization;
using BaloyiBank.EventLog.Tests;
using Xunit;
using Xunit.Abstractions;

namespace BaloyiBank.EventLog.Kafka.BrokerTests;

/// <summary>
/// Appends and reads back a volume of events, checking every one arrives once and in order, and prints the rates
/// (for the operator; no speed is asserted). On Event Hubs it needs an empty 4-partition contract-* hub.
/// </summary>
[Collection(SharedBrokerGroup.Name)]
public sealed class KafkaThroughputTests(KafkaBroker broker, ITestOutputHelper output)
{
    [Fact]
    public async Task Two_hundred_thousand_events_append_and_read_back_exactly_once_in_order()
    {
        const int partitions = 4;
        const int total = 200_000;
        var topic = broker.NewTopic(partitions);
        await using var log = await KafkaEventLog.OpenAsync(broker.Kind, topic, partitions, broker.Options());
        try
        {
            var payload = new string('x', 200);
            var events = Enumerable.Range(0, total).Select(i => Events.Make(string.Create(CultureInfo.InvariantCulture, $"ACC{i % 20_000:D8}"), string.Create(CultureInfo.InvariantCulture, $"{i}:{payload}"))).ToArray();
            await using var producer = log.CreateProducer();
            var appendClock = Stopwatch.StartNew();
            var positions = new List<LogPosition>(total);
            foreach (var chunk in events.Chunk(20_000))
            {
                positions.AddRange((await producer.AppendAsync(chunk)).Positions);
            }

            appendClock.Stop();
            var readClock = Stopwatch.StartNew();
            var read = 0;
            for (var p = 0; p < partitions; p++)
            {
                var expected = positions.Where(x => x.Partition == p).ToList();
                await using var reader = log.OpenReader(p, StartPosition.Earliest);
                var records = await reader.ReadExactlyAsync(expected.Count, TimeSpan.FromMinutes(2));
                Assert.Equal(expected, records.Select(r => r.Position));
                read += records.Count;
            }

            readClock.Stop();
            Assert.Equal(total, read);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{broker.Describe}: appended {total:N0} events of ~215 B in {appendClock.Elapsed.TotalSeconds:F2} s ({total / appendClock.Elapsed.TotalSeconds:N0}/s); read back in {readClock.Elapsed.TotalSeconds:F2} s ({total / readClock.Elapsed.TotalSeconds:N0}/s)"));
        }
        finally
        {
            if (broker.CreatesTopics)
            {
                await log.DeleteAsync();
            }
        }
    }
}
