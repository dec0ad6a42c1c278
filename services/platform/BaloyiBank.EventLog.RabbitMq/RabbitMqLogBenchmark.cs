using BaloyiBank.ServiceDefaults;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using RabbitMQ.Client;

namespace BaloyiBank.EventLog.RabbitMq;

/// <summary>What <see cref="RabbitMqLogBenchmark"/> measures. MB are 10^6 bytes.</summary>
public sealed record RabbitMqBenchmarkSettings
{
    /// <summary>The broker; its password never appears in the report.</summary>
    public string Uri { get; init; } = "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>Plain messages for the raw stream rates (one message = one event, no packing).</summary>
    public int RawMessages { get; init; } = 200_000;

    public int RawMessageBytes { get; init; } = 240;

    /// <summary>Unconfirmed messages in flight while publishing raw.</summary>
    public int RawInFlight { get; init; } = 1_000;

    /// <summary>Events appended through the event log, per batch size.</summary>
    public long PackedEvents { get; init; } = 1_000_000;

    /// <summary>Approximate bytes per event: key, headers (traceparent, content-type) and value together.</summary>
    public int EventSize { get; init; } = 300;

    /// <summary>Events per AppendAsync call; the log packs each partition's share into messages.</summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [2_000, 10_000];

    public int Partitions { get; init; } = 8;
}

/// <param name="Messages">Messages (raw) or events (packed).</param>
/// <param name="MessagesPerSecond">Messages (raw) or events (packed) per second.</param>
/// <param name="MBPerSecond">Message bodies (raw) or event bytes (packed) per second.</param>
public sealed record RateResult(string What, long Messages, long Bytes, double Seconds, double MessagesPerSecond, double MBPerSecond);

public sealed record RabbitMqBenchmarkReport(string Broker, RateResult RawPublish, RateResult RawConsume, IReadOnlyList<RateResult> PackedAppends, RateResult PackedRead);

/// <summary>
/// Measures RabbitMQ streams on their own (one event per message, publisher confirms) and the
/// event log on top of them (many events per message): publish/append and consume/read rates.
/// Everything it creates on the broker (streams named <c>baloyi-bench-…</c>) is deleted afterwards.
/// </summary>
public static class RabbitMqLogBenchmark
{
    public static async Task<RabbitMqBenchmarkReport> RunAsync(RabbitMqBenchmarkSettings settings, Action<string> progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(progress);
        var masked = UriMasking.Mask(settings.Uri);
        var id = string.Create(CultureInfo.InvariantCulture, $"baloyi-bench-{Environment.ProcessId}-{DateTime.UtcNow:HHmmss}");
        var factory = new ConnectionFactory { Uri = new Uri(settings.Uri), AutomaticRecoveryEnabled = false, ClientProvidedName = id };
        await using var connection = await factory.CreateConnectionAsync(ct).ConfigureAwait(false);

        var rawStream = id + ".raw";
        progress($"raw: {settings.RawMessages:N0} messages of {settings.RawMessageBytes} B to stream {rawStream} at {masked}, {settings.RawInFlight} unconfirmed in flight");
        var publish = await PublishRawAsync(connection, rawStream, settings, ct).ConfigureAwait(false);
        progress(Describe(publish));
        var consume = await ConsumeRawAsync(connection, rawStream, settings.RawMessages, ct).ConfigureAwait(false);
        progress(Describe(consume));
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: ct).ConfigureAwait(false))
        {
            await channel.QueueDeleteAsync(rawStream, false, false, cancellationToken: ct).ConfigureAwait(false);
        }

        var pool = EventPool(settings.EventSize);
        var appends = new List<RateResult>();
        RateResult? read = null;
        foreach (var batchSize in settings.BatchSizes)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{id}.b{batchSize}");
            await using var log = await RabbitMqEventLog.OpenAsync(name, settings.Partitions, new RabbitMqEventLogOptions { Uri = settings.Uri }, cancellationToken: ct).ConfigureAwait(false);
            try
            {
                progress($"event log: {settings.PackedEvents:N0} events of ~{settings.EventSize} B in appends of {batchSize:N0} to {settings.Partitions} partitions");
                var append = await AppendAsync(log, pool, batchSize, settings.PackedEvents, ct).ConfigureAwait(false);
                appends.Add(append);
                progress(Describe(append));
                if (batchSize == settings.BatchSizes[^1])
                {
                    read = await ReadAllAsync(log, settings.PackedEvents, ct).ConfigureAwait(false);
                    progress(Describe(read));
                }
            }
            finally
            {
                await log.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        return new RabbitMqBenchmarkReport(masked, publish, consume, appends, read!);
    }

    public static string Describe(RateResult r) => string.Create(
        CultureInfo.InvariantCulture,
        $"{r.What}: {r.Messages:N0} in {r.Seconds:F2} s = {r.MessagesPerSecond:N0}/s, {r.MBPerSecond:F1} MB/s");

    private static async Task<RateResult> PublishRawAsync(IConnection connection, string stream, RabbitMqBenchmarkSettings settings, CancellationToken ct)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct).ConfigureAwait(false);
        await channel.QueueDeclareAsync(stream, true, false, false, new Dictionary<string, object?> { ["x-queue-type"] = "stream" }, cancellationToken: ct).ConfigureAwait(false);
        var body = new byte[settings.RawMessageBytes];
        Random.Shared.NextBytes(body);
        var properties = new BasicProperties { Persistent = true };
        var inFlight = new Queue<Task>();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < settings.RawMessages; i++)
        {
            inFlight.Enqueue(channel.BasicPublishAsync(string.Empty, stream, false, properties, body, ct).AsTask());
            if (inFlight.Count >= settings.RawInFlight)
            {
                await inFlight.Dequeue().ConfigureAwait(false);
            }
        }

        while (inFlight.Count > 0)
        {
            await inFlight.Dequeue().ConfigureAwait(false);
        }

        return Rate("raw stream publish (confirmed)", settings.RawMessages, (long)settings.RawMessages * settings.RawMessageBytes, Stopwatch.GetElapsedTime(started));
    }

    private static async Task<RateResult> ConsumeRawAsync(IConnection connection, string stream, int count, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        await using var consumer = await StreamConsumer.AttachAsync(connection, stream, "first", 1000, ackOnReceive: false, ct).ConfigureAwait(false);
        long received = 0, bytes = 0;
        while (received < count && await consumer.Messages.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            ulong last = 0;
            while (consumer.Messages.TryRead(out var message))
            {
                received++;
                bytes += message.Body.Length;
                last = message.DeliveryTag;
            }

            await consumer.AckAsync(last, ct).ConfigureAwait(false);
        }

        return Rate("raw stream consume", received, bytes, Stopwatch.GetElapsedTime(started));
    }

    private static async Task<RateResult> AppendAsync(RabbitMqEventLog log, OutgoingEvent[] pool, int batchSize, long total, CancellationToken ct)
    {
        await using var producer = log.CreateProducer();
        await producer.AppendAsync(pool[..Math.Min(pool.Length, 100)], ct).ConfigureAwait(false); // connect and take the partitions first
        var batch = new OutgoingEvent[batchSize];
        long appended = 0, bytes = 0, cursor = 0;
        var started = Stopwatch.GetTimestamp();
        while (appended < total)
        {
            var size = (int)Math.Min(batchSize, total - appended);
            for (var i = 0; i < size; i++)
            {
                batch[i] = pool[cursor++ % pool.Length];
                bytes += batch[i].Value.Length + batch[i].Key.Length;
            }

            await producer.AppendAsync(size == batchSize ? batch : batch[..size], ct).ConfigureAwait(false);
            appended += size;
        }

        return Rate($"event log append, batches of {batchSize:N0}", appended, bytes, Stopwatch.GetElapsedTime(started));
    }

    private static async Task<RateResult> ReadAllAsync(RabbitMqEventLog log, long expected, CancellationToken ct)
    {
        var infos = await log.DescribeAsync(ct).ConfigureAwait(false);
        var started = Stopwatch.GetTimestamp();
        var counts = await Task.WhenAll(Enumerable.Range(0, log.PartitionCount).Select(p => Task.Run(async () =>
        {
            var info = infos[p];
            await using var reader = log.OpenReader(p, StartPosition.Earliest);
            long count = 0, bytes = 0;
            while (count < info.NextOffset - info.FirstOffset)
            {
                var records = await reader.ReadAsync(1000, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
                if (records.Count == 0)
                {
                    break;
                }

                count += records.Count;
                foreach (var record in records)
                {
                    bytes += record.Value.Length + record.Key.Length;
                }
            }

            return (count, bytes);
        }, ct))).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var total = counts.Sum(c => c.count);
        return Rate($"event log read, {log.PartitionCount} partitions at once ({total:N0} of {expected + 100:N0})", total, counts.Sum(c => c.bytes), elapsed);
    }

    private static RateResult Rate(string what, long count, long bytes, TimeSpan elapsed) =>
        new(what, count, bytes, elapsed.TotalSeconds, count / elapsed.TotalSeconds, bytes / elapsed.TotalSeconds / 1e6);

    private static OutgoingEvent[] EventPool(int eventSize)
    {
        var random = new Random(11);
        var pool = new OutgoingEvent[65_536];
        var headers = new EventHeaders(
            new KeyValuePair<string, string>(EventHeaders.TraceParent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            new KeyValuePair<string, string>(EventHeaders.ContentType, "application/json"));
        var valueSize = Math.Max(16, eventSize - 110);
        for (var i = 0; i < pool.Length; i++)
        {
            var value = new StringBuilder("{\"type\":\"transaction.posted\",\"amount\":");
            while (value.Length < valueSize)
            {
                value.Append(random.Next(10));
            }

            pool[i] = new OutgoingEvent(string.Create(CultureInfo.InvariantCulture, $"ACC{random.Next(100_000):D8}"), Encoding.UTF8.GetBytes(value.Append('}').ToString()), headers);
        }

        return pool;
    }
}
