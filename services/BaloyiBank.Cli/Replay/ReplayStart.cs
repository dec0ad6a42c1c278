using System.Globalization;
using BaloyiBank.EventLog;

namespace BaloyiBank.Cli.Replay;

/// <summary>
/// Where a replay starts reading: <c>earliest</c> (the oldest retained record; for bronze the oldest archived one),
/// a UTC instant (the first record enqueued at or after it, per partition), or explicit <c>partition:offset</c> pairs
/// (partitions not named start at their earliest).
/// </summary>
internal sealed record ReplayStart(DateTimeOffset? At, IReadOnlyDictionary<int, long> Offsets)
{
    public static ReplayStart Earliest { get; } = new(null, new Dictionary<int, long>());

    public bool IsEarliest => At is null && Offsets.Count == 0;

    /// <summary>Whether a record of <paramref name="partition"/> at <paramref name="offset"/>, enqueued at <paramref name="enqueuedAt"/>, is at or after the start.</summary>
    public bool Admits(int partition, long offset, DateTimeOffset enqueuedAt) =>
        (At is not { } at || enqueuedAt >= at) && (!Offsets.TryGetValue(partition, out var first) || offset >= first);

    /// <summary>The log position a fresh reader of <paramref name="partition"/> opens at.</summary>
    public StartPosition PositionOf(int partition) =>
        Offsets.TryGetValue(partition, out var offset) ? StartPosition.AtOffset(offset)
        : At is { } at ? StartPosition.AtTime(at)
        : StartPosition.Earliest;

    public override string ToString() =>
        IsEarliest ? "earliest"
        : At is { } at ? at.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)
        : string.Join(",", Offsets.OrderBy(o => o.Key).Select(o => string.Create(CultureInfo.InvariantCulture, $"{o.Key}:{o.Value}")));

    /// <summary>Null with <paramref name="problem"/> (a sentence ending in the fix) when <paramref name="text"/> is not a start.</summary>
    public static ReplayStart? TryParse(string text, out string problem)
    {
        problem = "";
        if (text == "earliest")
        {
            return Earliest;
        }

        const string Fix = "Fix: pass --from earliest, a UTC instant such as 2026-01-01T00:00:00Z, or partition:offset pairs such as 0:1000,3:250.";
        if (text.Contains(':', StringComparison.Ordinal) && !text.Contains('T', StringComparison.Ordinal))
        {
            var offsets = new Dictionary<int, long>();
            foreach (var pair in text.Split(','))
            {
                var parts = pair.Split(':');
                if (parts.Length != 2
                    || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
                    || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
                    || !offsets.TryAdd(partition, offset))
                {
                    problem = $"--from '{text}': '{pair}' is not a partition:offset pair (whole numbers, each partition once). {Fix}";
                    return null;
                }
            }

            return new ReplayStart(null, offsets);
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant)
            && (text.EndsWith('Z') || text.EndsWith("+00:00", StringComparison.Ordinal)))
        {
            return new ReplayStart(instant, new Dictionary<int, long>());
        }

        problem = $"--from '{text}' is neither earliest, a UTC instant (with its Z) nor partition:offset pairs. {Fix}";
        return null;
    }
}

/// <summary>
/// The event log as a replay's pipeline sees it: a reader of a partition with no progress yet (offset 0 asked) starts
/// at the replay's start instead; a resumed one (progress in the generation) continues where it was.
/// </summary>
internal sealed class StartingEventLog(IEventLog inner, ReplayStart start) : IEventLog
{
    public string Name => inner.Name;

    public int PartitionCount => inner.PartitionCount;

    public Task<IReadOnlyList<PartitionInfo>> DescribeAsync(CancellationToken cancellationToken = default) => inner.DescribeAsync(cancellationToken);

    public IEventLogProducer CreateProducer() =>
        throw new NotSupportedException("A replay only reads the event log.");

    public IPartitionReader OpenReader(int partition, StartPosition start1) =>
        inner.OpenReader(partition, start1 is StartPosition.OffsetPosition { Offset: 0 } ? start.PositionOf(partition) : start1);

    // The inner log belongs to whoever opened it.
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
