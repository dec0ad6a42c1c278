namespace BaloyiBank.Generator;

/// <summary>Rate limiting with bursts: tokens refill at a steady rate up to the bucket size.</summary>
internal sealed class TokenBucket
{
    private readonly double _ratePerSecond;
    private readonly double _capacity;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _last;

    public TokenBucket(double ratePerSecond, int burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        _ratePerSecond = ratePerSecond;
        // Zero means one second's worth, and never less than one event.
        _capacity = Math.Max(1, burst > 0 ? burst : Math.Ceiling(ratePerSecond));
        _time = time;
        _tokens = _capacity;
        _last = time.GetTimestamp();
    }

    /// <summary>Takes up to <paramref name="wanted"/> whole tokens that are there now; returns how many.</summary>
    public int TryTake(int wanted)
    {
        Refill();
        var granted = (int)Math.Min(wanted, Math.Floor(_tokens));
        _tokens -= granted;
        return granted;
    }

    /// <summary>How long until at least one token is there.</summary>
    public TimeSpan UntilNextToken()
    {
        Refill();
        return _tokens >= 1 ? TimeSpan.Zero : TimeSpan.FromSeconds((1 - _tokens) / _ratePerSecond);
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_capacity, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * _ratePerSecond));
        _last = now;
    }
}
