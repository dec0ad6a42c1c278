using System.Net;
using System.Net.Sockets;
using BaloyiBank.EventLog.Tests;
using Microsoft.Extensions.Logging;
using Xunit;

namespace BaloyiBank.EventLog.RabbitMq.Tests;

/// <summary>What the RabbitMQ backend adds to the contract: packing, crash recovery, one writer per partition.</summary>
[Collection(SharedBrokerGroup.Name)]
public sealed class RabbitMqEventLogTests(RabbitMqBroker broker, Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<(string Name, int Partitions)> _created = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (name, partitions) in _created)
        {
            await using var log = await RabbitMqEventLog.OpenAsync(name, partitions, broker.Options());
            await log.DeleteAsync();
        }
    }

    [Fact]
    public async Task Many_events_are_packed_per_message_and_offsets_stay_dense()
    {
        var name = NewLog("pack", 1);
        await using var log = await RabbitMqEventLog.OpenAsync(name, 1, broker.Options(o => (o.MaxEventsPerMessage, o.MaxMessageBytes) = (1000, 64 * 1024)));
        await using var producer = log.CreateProducer();

        var small = await producer.AppendAsync([.. Enumerable.Range(0, 2500).Select(i => Events.Make("k", $"small-{i}"))]);
        var more = await producer.AppendAsync([.. Enumerable.Range(0, 700).Select(i => Events.Make("k", $"more-{i}"))]);
        var large = await producer.AppendAsync([.. Enumerable.Range(0, 40).Select(i => Events.Make("k", $"{i:D4}" + new string('L', 5000)))]);

        var positions = small.Positions.Concat(more.Positions).Concat(large.Positions).ToList();
        Assert.Equal(Enumerable.Range(0, 3240).Select(i => (long)i), positions.Select(p => p.Offset));

        // The stream holds one message per frame: 1,000 events at most, or 64 KiB (13 large events) at most.
        var connection = await log.Broker.ConsumingAsync(default);
        var messages = await StreamProbe.ReadAsync(connection, log.Topology.Stream(0), "first", _ => false, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), default);
        var frames = messages.Select(m => m.Header!.Value).Where(h => !h.IsFence).ToList();
        Assert.Equal([1000, 1000, 500, 700, 13, 13, 13, 1], frames.Select(f => f.Count));
        Assert.Equal([0L, 1000, 2000, 2500, 3200, 3213, 3226, 3239], frames.Select(f => f.FirstOffset));
        Assert.All(messages, m => Assert.True(m.Body.Length <= 64 * 1024));

        await using var reader = log.OpenReader(0, StartPosition.Earliest);
        var records = await reader.ReadExactlyAsync(3240);
        Assert.Equal(positions, records.Select(r => r.Position));
        Assert.Equal("small-2499", records[2499].Text());
        Assert.Equal("more-0", records[2500].Text());
        Assert.StartsWith("0039", records[^1].Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_from_any_offset_or_time_of_a_long_stream_start_exactly_there()
    {
        var name = NewLog("seek", 1);
        await using var log = await RabbitMqEventLog.OpenAsync(name, 1, broker.Options());
        await using var producer = log.CreateProducer();
        var random = new Random(3);
        var positions = new List<(LogPosition Position, DateTimeOffset Before)>();
        for (var batch = 0; batch < 400; batch++)
        {
            var before = DateTimeOffset.UtcNow;
            var result = await producer.AppendAsync([.. Enumerable.Range(0, random.Next(1, 6)).Select(i => Events.Make("k", $"{batch}/{i}"))]);
            positions.AddRange(result.Positions.Select(p => (p, before)));
        }

        foreach (var index in new[] { 0, 1, 2, 17, 333, positions.Count / 2, positions.Count - 2, positions.Count - 1 })
        {
            await using var byOffset = log.OpenReader(0, StartPosition.AtOffset(positions[index].Position.Offset));
            Assert.Equal(positions[index].Position, (await byOffset.ReadExactlyAsync(1))[0].Position);
        }

        // Time: the first record enqueued at or after an instant taken just before an append is that append's first record or an earlier one of the same tick.
        foreach (var index in new[] { 50, 700 })
        {
            var target = positions.FindIndex(p => p.Before >= positions[index].Before);
            await using var byTime = log.OpenReader(0, StartPosition.AtTime(positions[target].Before));
            var first = (await byTime.ReadExactlyAsync(1))[0];
            Assert.InRange(first.Offset, positions[target].Position.Offset - 6, positions[target].Position.Offset);
            Assert.True(first.EnqueuedAt >= positions[target].Before);
        }
    }

    [Fact]
    public async Task A_producer_killed_mid_append_is_resumed_without_gaps_or_duplicates()
    {
        const int partitions = 3;
        const long total = 30_000;
        var name = NewLog("crash", partitions);
        long acked = -1;
        using (var child = CrashWriterProcess.Start(broker.Uri, name, partitions, total))
        {
            while (acked < 3_000)
            {
                var line = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))
                    ?? throw new InvalidOperationException($"The CrashWriter exited early (code {(child.HasExited ? child.ExitCode : -1)}).");
                acked = long.Parse(line["ack ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }

            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync();
        }

        // Resume as the generator does: per partition, skip what the log already holds.
        await using var log = await RabbitMqEventLog.OpenAsync(name, partitions, broker.Options());
        var last = new long[partitions];
        foreach (var info in await log.DescribeAsync())
        {
            last[info.Partition] = -1;
            if (!info.IsEmpty)
            {
                await using var tail = log.OpenReader(info.Partition, StartPosition.AtOffset(info.NextOffset - 1));
                last[info.Partition] = Numbered.Of((await tail.ReadExactlyAsync(1))[0]);
            }
        }

        Assert.True(last.Max() >= acked, $"everything acknowledged ({acked}) is in the log (last per partition {string.Join(", ", last)})");
        await using var producer = log.CreateProducer();
        var resend = Enumerable.Range(0, (int)total).Select(n => Numbered.Make(n))
            .Where((e, n) => n > last[KeyPartitioner.PartitionFor(e.Key, partitions)]).ToList();
        foreach (var chunk in resend.Chunk(2_000))
        {
            await producer.AppendAsync(chunk);
        }

        await Numbered.AssertHoldsExactlyAsync(log, total);
    }

    [Fact]
    public async Task Appends_and_reads_survive_cut_connections_exactly_once()
    {
        const int partitions = 2;
        const int total = 12_000;
        var name = NewLog("cut", partitions);
        var logs = new CapturingLoggerProvider();
        await using var log = await RabbitMqEventLog.OpenAsync(name, partitions, broker.Options(o => o.MaxEventsPerMessage = 100), logs);
        var readers = Enumerable.Range(0, partitions).Select(p => log.OpenReader(p, StartPosition.Earliest)).ToArray();
        var seen = Enumerable.Range(0, partitions).Select(_ => new List<LogRecord>()).ToArray();
        using var stop = new CancellationTokenSource();
        var reading = Task.WhenAll(Enumerable.Range(0, partitions).Select(p => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                seen[p].AddRange(await readers[p].ReadAsync(500, TimeSpan.FromMilliseconds(50)));
            }
        })));

        await using (var producer = log.CreateProducer())
        {
            for (var batch = 0; batch < total / 400; batch++)
            {
                var appending = producer.AppendAsync([.. Enumerable.Range(batch * 400, 400).Select(n => Numbered.Make(n))]);
                if (batch % 5 == 2)
                {
                    // Cut while the batch's messages are in flight: their confirms are lost with the connection.
                    await Task.Delay(2);
                    await log.Broker.CutAsync();
                }

                await appending;
            }
        }

        var expectedCounts = Enumerable.Range(0, partitions)
            .Select(p => Enumerable.Range(0, total).Count(n => KeyPartitioner.PartitionFor(Numbered.Make(n).Key, partitions) == p)).ToArray();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Enumerable.Range(0, partitions).Any(p => seen[p].Count < expectedCounts[p]) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await stop.CancelAsync();
        await reading;
        for (var p = 0; p < partitions; p++)
        {
            Assert.Equal(Enumerable.Range(0, expectedCounts[p]).Select(i => (long)i), seen[p].Select(r => r.Offset));
            await readers[p].DisposeAsync();
        }

        await Numbered.AssertHoldsExactlyAsync(log, total);
        foreach (var line in logs.Lines.Where(l => l.Level >= LogLevel.Information))
        {
            output.WriteLine($"{line.Level}: {line.Message}");
        }

        // Each cut made the writers take their partitions again (fence, read back) on a new connection; whether a
        // cut caught an append in flight (a "retrying" warning) depends on timing, and both cases end in the same log.
        Assert.True(logs.Lines.Count(l => l.Message.StartsWith("Connected ", StringComparison.Ordinal) && l.Message.Contains(":publish ", StringComparison.Ordinal)) > 1);
        Assert.True(logs.Lines.Count(l => l.Message.StartsWith("Writing stream", StringComparison.Ordinal)) > partitions);
        Assert.DoesNotContain(logs.Lines, l => l.Message.Contains("guest:guest", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_writer_waits_for_the_partition_then_fails_clearly_and_takes_over_once_free()
    {
        var name = NewLog("lock", 1);
        var first = await RabbitMqEventLog.OpenAsync(name, 1, broker.Options());
        await using var second = await RabbitMqEventLog.OpenAsync(name, 1, broker.Options(o => o.WriterLockWait = TimeSpan.FromSeconds(1)));
        await using var firstProducer = first.CreateProducer();
        await using var secondProducer = second.CreateProducer();
        await firstProducer.AppendAsync([.. Enumerable.Range(0, 10).Select(n => Numbered.Make(n))]);

        var error = await Assert.ThrowsAsync<EventLogLockedException>(() => secondProducer.AppendAsync([Numbered.Make(10)]));
        Assert.Contains($"'{name}' partition 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("Only one process may write a partition at a time", error.Message, StringComparison.Ordinal);

        await first.DisposeAsync();
        var taken = await secondProducer.AppendAsync([.. Enumerable.Range(10, 5).Select(n => Numbered.Make(n))]);
        Assert.Equal([10L, 11, 12, 13, 14], taken.Positions.Select(p => p.Offset));
        await Numbered.AssertHoldsExactlyAsync(second, 15);
    }

    [Fact]
    public async Task A_log_is_refused_with_another_partition_count_naming_the_fix()
    {
        var name = NewLog("shape", 3);
        await (await RabbitMqEventLog.OpenAsync(name, 3, broker.Options())).DisposeAsync();

        var error = await Assert.ThrowsAsync<EventLogConfigurationException>(() => RabbitMqEventLog.OpenAsync(name, 4, broker.Options()));

        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("created with 3 partitions, but EventLog:Partitions is 4", error.Message, StringComparison.Ordinal);
        Assert.Contains("Fix: set EventLog__Partitions=3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Describe_and_a_start_at_an_offset_return_while_messages_keep_arriving()
    {
        var name = NewLog("flood", 1);
        await using var log = await RabbitMqEventLog.OpenAsync(name, 1, broker.Options());
        await using var producer = log.CreateProducer();
        var appended = await producer.AppendAsync([.. Enumerable.Range(0, 100).Select(i => Events.Make("k", $"e{i}"))]);
        // Another instance, as in another process: its describe cannot take the tail from this one's writer. Its
        // probes wait for the quiet the README advises on loaded machines, a second: here it never comes.
        await using var other = await RabbitMqEventLog.OpenAsync(name, 1, broker.Options(o => (o.ProbeTimeout, o.ProbeQuiet) = (TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1))));

        // Messages arrive without a pause as long as the probes' quiet: fences, which carry no events, so the
        // log's tail stays where the appends left it. Reading the last chunk until a quiet moment never returned (issue 21).
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(broker.Uri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        using var stop = new CancellationTokenSource();
        long published = 0;
        var flooding = Task.Run(async () =>
        {
            var writerId = Guid.NewGuid();
            while (!stop.IsCancellationRequested)
            {
                for (var i = 0; i < 20; i++)
                {
                    var fence = FrameCodec.EncodeFence(writerId, Interlocked.Increment(ref published), DateTime.UtcNow.Ticks);
                    await channel.BasicPublishAsync(string.Empty, $"{name}.p0", mandatory: false, new RabbitMQ.Client.BasicProperties(), fence);
                }

                await Task.Delay(1);
            }
        });

        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (Interlocked.Read(ref published) < 2_000)
            {
                Assert.True(DateTime.UtcNow < deadline && !flooding.IsCompleted, "The flood did not get 2,000 messages out.");
                await Task.Delay(10);
            }

            // Generous guards against a probe that waits for the stream to go quiet, not speed limits.
            var info = (await other.DescribeAsync().WaitAsync(TimeSpan.FromSeconds(60)))[0];
            Assert.Equal((0L, 100L), (info.FirstOffset, info.NextOffset));

            await using var reader = other.OpenReader(0, StartPosition.AtOffset(60));
            var records = await reader.ReadExactlyAsync(40, TimeSpan.FromSeconds(60));
            Assert.Equal(appended.Positions.Skip(60), records.Select(r => r.Position));
            Assert.False(flooding.IsCompleted, "The flood stopped before the describe and the reader's start returned.");
        }
        finally
        {
            await stop.CancelAsync();
            await flooding;
        }
    }

    private string NewLog(string prefix, int partitions)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
        _created.Add((name, partitions));
        return name;
    }
}

/// <summary>Failure without a broker: a closed port.</summary>
public sealed class ClosedPortTests
{
    [Fact]
    public async Task A_closed_port_fails_after_logged_retries_with_a_clear_exception()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var logs = new CapturingLoggerProvider();
        var options = new RabbitMqEventLogOptions
        {
            Uri = $"amqp://app:s3cr3t@127.0.0.1:{port}/",
            RetryAttempts = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            RetryMaxDelay = TimeSpan.FromMilliseconds(100),
        };

        var error = await Assert.ThrowsAsync<RabbitMqUnavailableException>(() => RabbitMqEventLog.OpenAsync("closed", 2, options, logs));

        Assert.Contains($"amqp://app:***@127.0.0.1:{port}/ failed open of log closed 4 times", error.Message, StringComparison.Ordinal);
        Assert.Contains("Fix: check that the broker runs", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, logs.Lines.Count(l => l.Level == LogLevel.Warning && l.Message.Contains("retrying", StringComparison.Ordinal)));
        Assert.Single(logs.Lines, l => l.Level == LogLevel.Error && l.Message.Contains("giving up", StringComparison.Ordinal));
        Assert.DoesNotContain("s3cr3t", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, l => l.Message.Contains("s3cr3t", StringComparison.Ordinal));

        // Readers and producers of a log that never opened fail the same clean way.
        var log = RabbitMqEventLog.Create("closed", 2, options);
        await using (log)
        {
            await using var reader = log.OpenReader(0, StartPosition.Earliest);
            await Assert.ThrowsAsync<RabbitMqUnavailableException>(() => reader.ReadAsync(10, TimeSpan.FromSeconds(1)));
            await using var producer = log.CreateProducer();
            await Assert.ThrowsAsync<RabbitMqUnavailableException>(() => producer.AppendAsync([Events.Make("k", "v")]));
        }
    }
}
