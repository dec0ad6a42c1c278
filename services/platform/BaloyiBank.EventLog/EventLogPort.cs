namespace BaloyiBank.EventLog;

// The event-log port. Shaped so that three backends fit it without leaking their nature:
// the embedded file log, RabbitMQ streams (one stream per partition) and Event Hubs through
// its Kafka endpoint (topic = hub, Kafka partition = Event Hubs partition).
//
// Offsets: within a partition they strictly increase in append order; they need not be dense
// (Kafka and packed RabbitMQ messages leave gaps). "Resume after offset o" is therefore
// StartPosition.AtOffset(o + 1): the first record whose offset is >= o + 1.

/// <summary>One event to append. The key chooses the partition (see <see cref="KeyPartitioner"/>).</summary>
public readonly record struct OutgoingEvent(string Key, ReadOnlyMemory<byte> Value, EventHeaders Headers);

/// <summary>Where one record sits in the log. Positions only grow.</summary>
public readonly record struct LogPosition(int Partition, long Offset)
{
    public override string ToString() => $"{Partition}:{Offset}";
}

/// <summary>One record read back from the log.</summary>
public sealed class LogRecord(int partition, long offset, DateTimeOffset enqueuedAt, string key, ReadOnlyMemory<byte> value, EventHeaders headers)
{
    public int Partition { get; } = partition;
    public long Offset { get; } = offset;
    /// <summary>When the log accepted the record (broker time), UTC.</summary>
    public DateTimeOffset EnqueuedAt { get; } = enqueuedAt;
    public string Key { get; } = key;
    public ReadOnlyMemory<byte> Value { get; } = value;
    public EventHeaders Headers { get; } = headers;
    public LogPosition Position => new(Partition, Offset);
}

/// <summary>Where a partition reader starts.</summary>
public abstract record StartPosition
{
    private StartPosition() { }

    /// <summary>The oldest record still retained.</summary>
    public static StartPosition Earliest { get; } = new EarliestPosition();
    /// <summary>Only records appended after the reader opened.</summary>
    public static StartPosition Latest { get; } = new LatestPosition();
    /// <summary>The first record whose offset is greater than or equal to <paramref name="offset"/>.</summary>
    public static StartPosition AtOffset(long offset) => new OffsetPosition(offset);
    /// <summary>The first record enqueued at or after <paramref name="instant"/>.</summary>
    public static StartPosition AtTime(DateTimeOffset instant) => new TimePosition(instant);

    public sealed record EarliestPosition : StartPosition;
    public sealed record LatestPosition : StartPosition;
    public sealed record OffsetPosition(long Offset) : StartPosition;
    public sealed record TimePosition(DateTimeOffset Instant) : StartPosition;
}

/// <summary>What a partition holds right now.</summary>
/// <param name="FirstOffset">Offset of the oldest retained record, or <see cref="NextOffset"/> when empty.</param>
/// <param name="NextOffset">The offset the next appended record will get at the earliest (last offset + 1).</param>
/// <param name="LastEnqueuedAt">Enqueue time of the newest record, null when empty.</param>
public sealed record PartitionInfo(int Partition, long FirstOffset, long NextOffset, DateTimeOffset? LastEnqueuedAt)
{
    public bool IsEmpty => NextOffset <= FirstOffset;
}

/// <summary>The outcome of one append: the position each event got, in input order.</summary>
public sealed class AppendResult(LogPosition[] positions)
{
    public IReadOnlyList<LogPosition> Positions => positions;
    public int Count => positions.Length;
}

/// <summary>
/// A partitioned, append-only, replayable event log (an Event Hub, a set of RabbitMQ streams,
/// or the embedded folder log). One instance per hub; thread-safe.
/// </summary>
public interface IEventLog : IAsyncDisposable
{
    /// <summary>The hub / topic name.</summary>
    string Name { get; }

    int PartitionCount { get; }

    /// <summary>First and next offsets of every partition.</summary>
    Task<IReadOnlyList<PartitionInfo>> DescribeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// A producer. Its appends are acknowledged only once durable by the backend's standard
    /// (embedded: written to the OS, or fsynced when configured; brokers: publisher confirms).
    /// </summary>
    IEventLogProducer CreateProducer();

    /// <summary>A reader of one partition from a start position. Readers never see torn or unacknowledged-then-lost data.</summary>
    IPartitionReader OpenReader(int partition, StartPosition start);
}

public interface IEventLogProducer : IAsyncDisposable
{
    /// <summary>
    /// Appends events, partitioned by key, preserving input order within each partition.
    /// Returns when every event is acknowledged. On failure some partitions may have been
    /// appended and others not; per partition, an append is all-or-nothing in order.
    /// </summary>
    Task<AppendResult> AppendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken = default);
}

public interface IPartitionReader : IAsyncDisposable
{
    int Partition { get; }

    /// <summary>
    /// Returns up to <paramref name="maxRecords"/> records in offset order, waiting up to
    /// <paramref name="maxWait"/> for the first one; an empty list means nothing new arrived.
    /// Tails the log: records appended later are returned by later calls.
    /// </summary>
    Task<IReadOnlyList<LogRecord>> ReadAsync(int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default);
}
