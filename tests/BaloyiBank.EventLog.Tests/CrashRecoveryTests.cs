using System.Globalization;
using BaloyiBank.EventLog.CrashWriter;
using BaloyiBank.EventLog.Embedded;
using Xunit;
using Xunit.Abstractions;

namespace BaloyiBank.EventLog.Tests;

public sealed class CrashRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 4;
    private readonly TempFolder _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task SIGKILL_at_random_moments_loses_no_acknowledged_record_and_leaves_no_torn_record_visible()
    {
        var folder = _root.NewFolder();
        var random = new Random(20250301);
        var acks = new List<Ack>();
        for (var run = 0; run < 6; run++)
        {
            var acked = await RunAndKill(folder, run, acksBeforeKill: random.Next(1, 25), extraDelayMs: random.Next(0, 20));
            Assert.NotEmpty(acked);
            acks.AddRange(acked);
            output.WriteLine($"run {run}: {acked.Count} acknowledged partition positions read before and after the SIGKILL");
        }

        await using var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = folder, Partitions = Partitions, SegmentBytes = 256 * 1024 });
        for (var p = 0; p < Partitions; p++)
        {
            // Every partition reads from its start without a torn or corrupt record.
            await using var reader = log.OpenReader(p, StartPosition.Earliest);
            var records = await reader.ReadToEndAsync(TimeSpan.FromMilliseconds(200));
            output.WriteLine($"partition {p}: {records.Count} records");

            Assert.Equal(Enumerable.Range(0, records.Count).Select(i => (long)i), records.Select(r => r.Offset));
            var sequences = new long[records.Count];
            for (var i = 0; i < records.Count; i++)
            {
                var record = records[i];
                var sequence = sequences[i] = CrashPayload.SequenceOf(record.Value.Span);
                Assert.Equal(CrashPayload.ValueFor(sequence), record.Value.ToArray());
                Assert.Equal(CrashPayload.KeyFor(sequence), record.Key);
                Assert.Equal(CrashPayload.HeadersFor(sequence).ToList(), record.Headers.ToList());
                Assert.Equal(p, KeyPartitioner.PartitionFor(record.Key, Partitions));
            }

            // Runs follow each other in the partition: sequences (run-major) strictly grow, so offsets continued across restarts.
            Assert.True(sequences.Zip(sequences.Skip(1)).All(pair => pair.Second > pair.First), "sequences grow along the partition");

            foreach (var ack in acks.Where(a => a.Partition == p))
            {
                Assert.True(ack.Offset < records.Count, $"acknowledged {p}:{ack.Offset} is present");
                Assert.Equal(ack.Sequence, sequences[ack.Offset]);
            }
        }

        // And the next writer picks up exactly where the last complete record ends.
        var next = await log.DescribeAsync();
        await using var producer = log.CreateProducer();
        var result = await producer.AppendAsync([.. Enumerable.Range(0, 40).Select(i => Events.Make($"after-{i}", "after"))]);
        foreach (var group in result.Positions.GroupBy(p => p.Partition))
        {
            Assert.Equal(next[group.Key].NextOffset, group.Min(p => p.Offset));
        }
    }

    private static async Task<List<Ack>> RunAndKill(string folder, int run, int acksBeforeKill, int extraDelayMs)
    {
        var acks = new List<Ack>();
        using var child = CrashWriterProcess.Start(folder, run, Partitions, "write");
        try
        {
            while (acks.Count < acksBeforeKill)
            {
                var line = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))
                    ?? throw new InvalidOperationException($"The CrashWriter of run {run} exited early (code {(child.HasExited ? child.ExitCode : -1)}).");
                acks.AddRange(Parse(line, run));
            }

            await Task.Delay(extraDelayMs);
        }
        finally
        {
            child.Kill();
        }

        await child.WaitForExitAsync();

        // Lines printed before the kill were acknowledged too.
        while (await child.StandardOutput.ReadLineAsync() is { } line)
        {
            acks.AddRange(Parse(line, run));
        }

        return acks;
    }

    private static IEnumerable<Ack> Parse(string line, int run)
    {
        var parts = line.Split(' ');
        if (parts.Length < 2 || parts[0] != "ack" || parts[^1] != "end")
        {
            return [];
        }

        return parts[1..^1].Select(part =>
        {
            var fields = part.Split(':');
            return new Ack(run, int.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture), long.Parse(fields[2], CultureInfo.InvariantCulture));
        });
    }

    private sealed record Ack(int Run, int Partition, long Offset, long Sequence);
}
