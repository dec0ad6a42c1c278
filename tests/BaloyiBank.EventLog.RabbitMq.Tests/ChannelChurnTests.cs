using System.Diagnostics;
using BaloyiBank.EventLog.Tests;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;

namespace BaloyiBank.EventLog.RabbitMq.Tests;

/// <summary>
/// Many short-lived channels on one consuming connection at once (describes of every partition,
/// readers attaching at offsets and going away), on a machine loaded on purpose: the broker must
/// never see a method on a channel it considers closed (issue 6: 504 CHANNEL_ERROR - expected 'channel.open').
/// </summary>
[Collection(SharedBrokerGroup.Name)]
public sealed class ChannelChurnTests(RabbitMqBroker broker, ITestOutputHelper output)
{
    private const int Partitions = 8;

    [Fact]
    public async Task Concurrent_describes_and_readers_under_cpu_load_never_use_a_closed_channel()
    {
        var name = $"churn-{Guid.NewGuid():N}"[..20];
        var total = 3_200;
        long[] expectedNext;
        await using (var writing = await RabbitMqEventLog.OpenAsync(name, Partitions, broker.Options(o => o.MaxEventsPerMessage = 4)))
        {
            await using var producer = writing.CreateProducer();
            var positions = (await producer.AppendAsync([.. Enumerable.Range(0, total).Select(n => Numbered.Make(n))])).Positions;
            expectedNext = [.. Enumerable.Range(0, Partitions).Select(p => (long)positions.Count(x => x.Partition == p))];
        }

        var logs = new CapturingLoggerProvider();
        // A second instance, as another process would: its describes probe the streams instead of asking its own writers.
        // Long probe waits: under this load a 100 ms pause inside the last chunk, or a first delivery later than 1 s, is
        // common, and a describe would then report an older tail or an empty partition (timing, not this test's subject: see README).
        var log = await RabbitMqEventLog.OpenAsync(name, Partitions, broker.Options(o => (o.RetryAttempts, o.ProbeTimeout, o.ProbeQuiet) = (10, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1))), logs);
        var describes = 0;
        var reads = 0;
        var wrongDescribes = new List<string>();
        var wrongReads = new List<string>();
        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var burners = Enumerable.Range(0, Environment.ProcessorCount * 3).Select(_ => new Thread(() =>
            {
                var x = 0UL;
                while (!stop.IsCancellationRequested)
                {
                    x = (x * 6364136223846793005UL) + 1442695040888963407UL;
                }

                GC.KeepAlive(x);
            })
            { IsBackground = true }).ToList();
            burners.ForEach(t => t.Start());

            var describing = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var infos = await log.DescribeAsync();
                    Interlocked.Increment(ref describes);
                    foreach (var info in infos.Where(i => (i.FirstOffset, i.NextOffset) != (0, expectedNext[i.Partition])))
                    {
                        lock (wrongDescribes)
                        {
                            wrongDescribes.Add($"p{info.Partition}: {info.FirstOffset}..{info.NextOffset}");
                        }
                    }
                }
            }));

            var reading = Enumerable.Range(0, Partitions).Select(p => Task.Run(async () =>
            {
                var random = new Random(p);
                while (!stop.IsCancellationRequested)
                {
                    var from = random.Next(2) == 0 ? 0 : random.Next((int)expectedNext[p]);
                    await using var reader = log.OpenReader(p, from == 0 ? StartPosition.Earliest : StartPosition.AtOffset(from));
                    var records = await reader.ReadAsync(random.Next(1, 40), TimeSpan.FromSeconds(30));
                    Interlocked.Increment(ref reads);
                    if (records.Count == 0 || records[0].Offset != from || records.Select((r, i) => r.Offset - i).Distinct().Count() != 1)
                    {
                        lock (wrongReads)
                        {
                            wrongReads.Add($"p{p} from {from}: {string.Join(",", records.Select(r => r.Offset).Take(5))}");
                        }
                    }
                }
            }));

            var started = Stopwatch.GetTimestamp();
            await Task.WhenAll(describing.Concat(reading));
            burners.ForEach(t => t.Join());
            output.WriteLine($"{describes} describes of {Partitions} partitions and {reads} reader attaches in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
        }
        finally
        {
            await log.DeleteAsync();
            await log.DisposeAsync();
        }

        var channelErrors = logs.Lines.Count(l => l.Message.Contains("expected 'channel.open'", StringComparison.Ordinal));
        var lost = logs.Lines.Count(l => l.Message.Contains("was lost", StringComparison.Ordinal));
        var retries = logs.Lines.Count(l => l.Message.Contains("retrying", StringComparison.Ordinal));
        output.WriteLine($"log lines naming expected 'channel.open': {channelErrors}; connections lost: {lost}; retries: {retries}");
        foreach (var line in logs.Lines.Where(l => l.Level >= LogLevel.Warning).Take(20))
        {
            output.WriteLine($"{line.Level}: {line.Message}");
        }

        Assert.True(describes > 0 && reads > 0, "the churn ran");
        Assert.Empty(wrongDescribes);
        Assert.Empty(wrongReads);
        Assert.Equal(0, channelErrors);
        Assert.Equal(0, lost);
    }
}
