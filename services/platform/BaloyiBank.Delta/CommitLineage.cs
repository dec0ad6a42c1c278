using System.Globalization;

namespace BaloyiBank.Delta;

/// <summary>
/// What a commit records about where its rows came from, in commitInfo under <c>baloyibank</c> (Delta readers ignore
/// fields they do not know): the trace contexts of the work that wrote it (the commit span's own traceparent is added
/// by the table) and when the events behind its rows were enqueued in the event log (<see cref="EnqueueTimes"/>),
/// from which every stage downstream measures its end-to-end latency.
/// </summary>
public sealed record CommitLineage
{
    private static readonly AsyncLocal<CommitLineage?> AmbientLineage = new();

    public IReadOnlyList<string> TraceParents { get; init; } = [];

    public EnqueueTimes? Enqueued { get; init; }

    public bool IsEmpty => TraceParents.Count == 0 && (Enqueued is null || Enqueued.Count == 0);

    /// <summary>The lineage commits take when their <see cref="DeltaCommit.Lineage"/> is not set (see <see cref="Use"/>).</summary>
    public static CommitLineage? Ambient => AmbientLineage.Value;

    /// <summary>
    /// Makes <paramref name="lineage"/> the lineage of every commit in this async flow until disposed: for writers
    /// whose commits are built by code that knows nothing of lineage (the gold store's round).
    /// </summary>
    public static IDisposable Use(CommitLineage? lineage)
    {
        var previous = AmbientLineage.Value;
        AmbientLineage.Value = lineage;
        return new Restore(previous);
    }

    private sealed class Restore(CommitLineage? previous) : IDisposable
    {
        public void Dispose() => AmbientLineage.Value = previous;
    }
}

/// <summary>
/// When a set of events was enqueued in the event log, as a coarse histogram: counts per time bucket (Unix
/// milliseconds of the bucket's start), at most <see cref="MaxBuckets"/> buckets, each at least
/// <see cref="MinBucketMilliseconds"/> wide. A 2-second flush holds about 20 buckets, ~400 bytes of commitInfo.
/// Latency measured from it is exact to the bucket width. Not thread-safe.
/// </summary>
public sealed class EnqueueTimes
{
    public const int MaxBuckets = 64;
    public const long MinBucketMilliseconds = 100;

    private readonly SortedDictionary<long, long> _buckets = [];

    public long Width { get; private set; } = MinBucketMilliseconds;

    /// <summary>Events counted.</summary>
    public long Count { get; private set; }

    public IEnumerable<(long StartMs, long Count)> Buckets => _buckets.Select(b => (b.Key, b.Value));

    public void Add(long unixMilliseconds, long count = 1)
    {
        if (count <= 0)
        {
            return;
        }

        var start = unixMilliseconds - Mod(unixMilliseconds, Width);
        _buckets[start] = _buckets.GetValueOrDefault(start) + count;
        Count += count;
        while (_buckets.Count > MaxBuckets)
        {
            Coarsen();
        }
    }

    public void AddTicks(long utcTicks) => Add((utcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMillisecond);

    public void Merge(EnqueueTimes other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (start, count) in other.Buckets)
        {
            // A bucket's middle, so merging never moves events by more than half a bucket.
            Add(start + (other.Width / 2), count);
        }
    }

    /// <summary>The latency of each bucket's events (from the bucket's middle) at <paramref name="visibleAt"/>, in seconds, with their counts.</summary>
    public IEnumerable<(double Seconds, long Count)> LatenciesAt(DateTimeOffset visibleAt)
    {
        var now = visibleAt.ToUnixTimeMilliseconds();
        foreach (var (start, count) in _buckets)
        {
            yield return (Math.Max(0, now - (start + (Width / 2))) / 1000.0, count);
        }
    }

    /// <summary>The commitInfo form: "width;start:count,start:count,…" (compact, and a string keeps the codec simple).</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Width};") + string.Join(',', _buckets.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Key}:{b.Value}")));

    public static EnqueueTimes? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var semicolon = text.IndexOf(';', StringComparison.Ordinal);
        if (semicolon < 0 || !long.TryParse(text.AsSpan(0, semicolon), NumberStyles.None, CultureInfo.InvariantCulture, out var width) || width <= 0)
        {
            return null;
        }

        var times = new EnqueueTimes { Width = width };
        foreach (var pair in text[(semicolon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && long.TryParse(pair.AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var start)
                && long.TryParse(pair.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                times.Add(start, count);
            }
        }

        return times;
    }

    private void Coarsen()
    {
        var old = _buckets.ToList();
        _buckets.Clear();
        Width *= 2;
        foreach (var (start, count) in old)
        {
            var bucket = start - Mod(start, Width);
            _buckets[bucket] = _buckets.GetValueOrDefault(bucket) + count;
        }
    }

    private static long Mod(long value, long width) => ((value % width) + width) % width;
}
