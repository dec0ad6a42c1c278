using System.Globalization;
using BaloyiBank.EventLog.Tests;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;

namespace BaloyiBank.EventLog.RabbitMq.Tests;

/// <summary>
/// A broker of its own (deploy/local/rabbitmq.sh on <c>BALOYI_TEST_RABBITMQ_RESTART_PORT</c>,
/// default 5682), since restarting the shared one would disturb everything else using it.
/// </summary>
public sealed class BrokerRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly LocalRabbitMq _broker = new(
        int.TryParse(Environment.GetEnvironmentVariable("BALOYI_TEST_RABBITMQ_RESTART_PORT"), CultureInfo.InvariantCulture, out var port) ? port : 5682,
        Path.Combine(Path.GetTempPath(), "baloyi-rabbitmq-restart-test"));

    public async Task InitializeAsync()
    {
        if (await _broker.IsRunningAsync())
        {
            await _broker.StopAsync();
        }

        await _broker.StartAsync();
    }

    public Task DisposeAsync() => _broker.StopAsync();

    /// <remarks>
    /// The producer keeps appending and the readers keep reading while the broker stops and
    /// starts again. Appends retry (logged) and complete; positions stay dense and unique; the
    /// readers re-attach after the last record they handed out and get every event exactly once.
    /// </remarks>
    [Fact]
    public async Task Appends_and_reads_retry_through_a_broker_restart_and_resume_exactly_once()
    {
        const int partitions = 2;
        const int total = 12_000;
        var logs = new CapturingLoggerProvider();
        // Retries for 5 minutes: on a loaded machine (load average 40+) the stop and start scripts take a minute or more.
        var options = new RabbitMqEventLogOptions { Uri = _broker.Uri, RetryAttempts = 300, RetryMaxDelay = TimeSpan.FromSeconds(1), MaxEventsPerMessage = 100 };
        var name = $"restart-{Guid.NewGuid():N}"[..20];
        await using var log = await RabbitMqEventLog.OpenAsync(name, partitions, options, logs);
        var readers = Enumerable.Range(0, partitions).Select(p => log.OpenReader(p, StartPosition.Earliest)).ToArray();
        var seen = Enumerable.Range(0, partitions).Select(_ => new List<LogRecord>()).ToArray();
        using var stop = new CancellationTokenSource();
        var reading = Task.WhenAll(Enumerable.Range(0, partitions).Select(p => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                seen[p].AddRange(await readers[p].ReadAsync(500, TimeSpan.FromMilliseconds(100)));
            }
        })));

        long acked = -1;
        var positions = new List<LogPosition>();
        // The producer holds its next append until the broker is down: on a loaded machine stopping it takes seconds, time enough to append everything.
        var down = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var producing = Task.Run(async () =>
        {
            await using var producer = log.CreateProducer();
            for (var start = 0; start < total; start += 300)
            {
                if (start == 1_800)
                {
                    await down.Task;
                }

                positions.AddRange((await producer.AppendAsync([.. Enumerable.Range(start, 300).Select(n => Numbered.Make(n))])).Positions);
                Interlocked.Exchange(ref acked, start + 299);
                await Task.Delay(150);
            }
        });

        while (Interlocked.Read(ref acked) < 1_500)
        {
            await Task.Delay(20);
        }

        await _broker.StopAsync();
        down.SetResult();
        var ackedWhileDown = Interlocked.Read(ref acked);
        await Task.Delay(500);
        Assert.False(producing.IsCompleted, "the producer waits for the broker");
        await _broker.StartAsync();
        await producing.WaitAsync(TimeSpan.FromMinutes(2));

        var expected = Enumerable.Range(0, partitions)
            .Select(p => Enumerable.Range(0, total).Select(n => (long)n).Where(n => KeyPartitioner.PartitionFor(Numbered.Make(n).Key, partitions) == p).ToList()).ToArray();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Enumerable.Range(0, partitions).Any(p => seen[p].Count < expected[p].Count) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await stop.CancelAsync();
        await reading;
        foreach (var line in logs.Lines.Where(l => l.Level >= LogLevel.Warning && !l.Message.Contains("None of the specified endpoints", StringComparison.Ordinal)).Take(60))
        {
            output.WriteLine($"{line.Level}: {line.Message}");
        }

        Assert.True(ackedWhileDown < total - 1, "the broker went down during the appends");
        for (var p = 0; p < partitions; p++)
        {
            var dense = Enumerable.Range(0, expected[p].Count).Select(i => (long)i).ToList();
            Assert.Equal(dense, positions.Where(x => x.Partition == p).Select(x => x.Offset));
            Assert.Equal(dense, seen[p].Select(r => r.Offset));
            Assert.Equal(expected[p], seen[p].Select(Numbered.Of));
            await readers[p].DisposeAsync();
        }

        await Numbered.AssertHoldsExactlyAsync(log, total);
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("append to stream", StringComparison.Ordinal) && l.Message.Contains("retrying", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("read of stream", StringComparison.Ordinal) && l.Message.Contains("retrying", StringComparison.Ordinal));
    }

    /// <remarks>
    /// A Latest reader attaches at the log's end. If its connection is lost before any record arrives, it must
    /// come back at that same end, not at the end as it is when it re-attaches: the records appended while it
    /// was away were appended after it opened. (Attaching at the broker's "next" again would skip them.)
    /// </remarks>
    [Fact]
    public async Task A_latest_reader_that_loses_its_connection_before_its_first_record_misses_nothing_appended_meanwhile()
    {
        var options = new RabbitMqEventLogOptions { Uri = _broker.Uri, RetryAttempts = 300, RetryMaxDelay = TimeSpan.FromSeconds(1) };
        var name = $"latest-{Guid.NewGuid():N}"[..20];
        await using var log = await RabbitMqEventLog.OpenAsync(name, 1, options);
        await using (var before = log.CreateProducer())
        {
            await before.AppendAsync([.. Enumerable.Range(0, 50).Select(n => Numbered.Make(n))]);
        }

        await using var reader = log.OpenReader(0, StartPosition.Latest);
        Assert.Empty(await reader.ReadAsync(100, TimeSpan.FromMilliseconds(500)));

        await _broker.StopAsync();
        await _broker.StartAsync();
        // Appended before the reader's next read, i.e. before it re-attaches.
        await using (var after = log.CreateProducer())
        {
            await after.AppendAsync([.. Enumerable.Range(50, 100).Select(n => Numbered.Make(n))]);
        }

        var seen = new List<LogRecord>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (seen.Count < 100 && DateTime.UtcNow < deadline)
        {
            try
            {
                seen.AddRange(await reader.ReadAsync(100, TimeSpan.FromMilliseconds(500)));
            }
            catch (Exception ex) when (ex is TimeoutException or RabbitMQ.Client.Exceptions.RabbitMQClientException or IOException)
            {
                // The broker is still coming back; the reader retries on the next read.
            }
        }

        Assert.Equal(Enumerable.Range(50, 100).Select(n => (long)n), seen.Select(r => r.Offset));
        Assert.Equal(Enumerable.Range(50, 100).Select(n => (long)n), seen.Select(Numbered.Of));
    }
}
