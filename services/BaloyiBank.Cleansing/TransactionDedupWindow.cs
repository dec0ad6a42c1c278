namespace BaloyiBank.Cleansing;

/// <summary>
/// Transaction ids seen on one partition within the dedup horizon of event time. The first
/// valid occurrence of an id wins; a later one within the horizon is a duplicate. Ids are kept
/// in hourly buckets of occurredAt and a bucket is dropped once its whole hour lies more than the
/// horizon behind the watermark, so an id is remembered for at least the horizon (at most an hour
/// longer) and memory stays bounded by the horizon's traffic.
/// </summary>
public sealed class TransactionDedupWindow
{
    private static readonly long BucketTicks = TimeSpan.TicksPerHour;

    // id → occurredAt (UTC ticks): exact, so a snapshot gives back what was remembered.
    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<long, List<string>> _buckets = [];
    // Late events open older buckets, so buckets are ordered by hour, not by creation.
    private readonly PriorityQueue<long, long> _bucketOrder = new();

    public TransactionDedupWindow(TimeSpan horizon)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(horizon, TimeSpan.Zero);
        Horizon = horizon;
    }

    public TimeSpan Horizon { get; }

    /// <summary>How many ids are remembered now.</summary>
    public int Count => _seen.Count;

    public bool Contains(string transactionId) => _seen.ContainsKey(transactionId);

    /// <summary>Remembers the id; false when it is already remembered (the caller has a duplicate).</summary>
    public bool TryAdmit(string transactionId, DateTimeOffset occurredAt)
    {
        var ticks = occurredAt.UtcTicks;
        if (!_seen.TryAdd(transactionId, ticks))
        {
            return false;
        }

        var bucket = ticks / BucketTicks;
        if (!_buckets.TryGetValue(bucket, out var ids))
        {
            _buckets[bucket] = ids = [];
            _bucketOrder.Enqueue(bucket, bucket);
        }

        ids.Add(transactionId);
        return true;
    }

    /// <summary>Forgets every bucket whose hour ends at or before <paramref name="watermark"/> − horizon.</summary>
    public void Evict(DateTimeOffset watermark)
    {
        var cutoff = watermark.UtcTicks - Horizon.Ticks;
        while (_bucketOrder.TryPeek(out var bucket, out _) && (bucket + 1) * BucketTicks <= cutoff)
        {
            _bucketOrder.Dequeue();
            foreach (var id in _buckets[bucket])
            {
                _seen.Remove(id);
            }

            _buckets.Remove(bucket);
        }
    }

    /// <summary>What the window remembers, for a snapshot.</summary>
    public IEnumerable<SeenTransaction> Entries() =>
        _seen.Select(pair => new SeenTransaction(pair.Key, new DateTimeOffset(pair.Value, TimeSpan.Zero)));
}
