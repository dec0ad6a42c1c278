using System.Diagnostics;
using BaloyiBank.EventLog;
using BaloyiBank.Generator;
using Xunit.Abstractions;

namespace BaloyiBank.Cleansing.Tests;

/// <summary>Reports the cleanser's speed on generator payloads (meaningful in Release; measured, never asserted).</summary>
public sealed class ThroughputTests(ITestOutputHelper output)
{
    [Fact]
    public void Cleansing_speed_on_generated_payloads_is_measured()
    {
        const int partitions = 8;
        const int count = 200_000;
        var records = GeneratedEvents.Records(new GeneratorOptions { InitialCustomers = 2_000 }).Take(count)
            .Select(r => (Partition: KeyPartitioner.PartitionFor(r.Key, partitions), r.Payload))
            .ToArray();
        var enqueuedAt = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        var cleanser = new RawEventCleanser();

        double best = 0;
        long bytes = 0;
        for (var round = 0; round < 3; round++)
        {
            var states = Enumerable.Range(0, partitions).Select(p => new PartitionState(p)).ToArray();
            var valid = 0;
            bytes = 0;
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < records.Length; i++)
            {
                var (partition, payload) = records[i];
                var outcome = cleanser.Process(new RawEvent(partition, i, enqueuedAt, enqueuedAt, payload), states[partition]);
                valid += outcome.Kind == OutcomeKind.Valid ? 1 : 0;
                bytes += payload.Length;
            }

            best = Math.Max(best, count / watch.Elapsed.TotalSeconds);
            Assert.True(valid > count * 0.95);
        }

#if DEBUG
        const string build = "Debug";
#else
        const string build = "Release";
#endif
        output.WriteLine($"{build}: {best:N0} events/s on one core ({1e9 / best:N0} ns/event, {bytes / (double)count:N0} B/payload, {best * bytes / count / 1e6:N0} MB/s)");
    }
}
