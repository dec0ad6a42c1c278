namespace BaloyiBank.Cleansing;

/// <summary>
/// Event-to-commit latencies in 1 ms buckets up to <see cref="MaxMilliseconds"/> (longer ones share the last
/// bucket), for percentiles a person can check: p50, p99, max. Thread-safe; recording is one interlocked add.
/// </summary>
public sealed class LatencyHistogram
{
    public const int MaxMilliseconds = 600_000;

    private readonly long[] _buckets = new long[MaxMilliseconds + 1];
    private long _count;
    private long _maxMilliseconds;

    public long Count => Interlocked.Read(ref _count);

    public TimeSpan Max => TimeSpan.FromMilliseconds(Interlocked.Read(ref _maxMilliseconds));

    public void Record(TimeSpan latency, long count = 1)
    {
        var ms = (long)Math.Clamp(Math.Ceiling(latency.TotalMilliseconds), 0, MaxMilliseconds);
        Interlocked.Add(ref _buckets[ms], count);
        Interlocked.Add(ref _count, count);
        var seen = Interlocked.Read(ref _maxMilliseconds);
        while (ms > seen && Interlocked.CompareExchange(ref _maxMilliseconds, ms, seen) != seen)
        {
            seen = Interlocked.Read(ref _maxMilliseconds);
        }
    }

    /// <summary>The smallest latency (whole ms, rounded up) at or below which <paramref name="quantile"/> of the events fall; zero when empty.</summary>
    public TimeSpan Percentile(double quantile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quantile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quantile, 1);
        var total = Count;
        if (total == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (var ms = 0; ms < _buckets.Length; ms++)
        {
            seen += Interlocked.Read(ref _buckets[ms]);
            if (seen >= rank)
            {
                return TimeSpan.FromMilliseconds(ms);
            }
        }

        return TimeSpan.FromMilliseconds(MaxMilliseconds);
    }

    public void Reset()
    {
        Array.Clear(_buckets);
        Interlocked.Exchange(ref _count, 0);
        Interlocked.Exchange(ref _maxMilliseconds, 0);
    }
}
