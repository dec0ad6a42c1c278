namespace BaloyiBank.Aggregator;

/// <summary>
/// Exact integer units the fold keeps internally: money as whole cents (long), instants as microseconds since
/// the Unix epoch (Delta's timestamp precision). Decimal in, decimal out; never a double.
/// </summary>
internal static class Units
{
    public const long NoTime = long.MinValue;

    public static long Cents(decimal amount)
    {
        var scaled = amount * 100m;
        var cents = decimal.ToInt64(scaled);
        if (cents != scaled)
        {
            throw new ArgumentException($"Money must have at most two decimal places (got {amount}).", nameof(amount));
        }

        return cents;
    }

    public static decimal Money(long cents) => new decimal(cents) / 100m;

    public static long Micros(DateTimeOffset instant) => (instant.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static DateTimeOffset Instant(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);

    public static DateTimeOffset? InstantOrNull(long micros) => micros == NoTime ? null : Instant(micros);

    /// <summary>total / count rounded half away from zero to the cent, in integers (the verifier's SQL does the same).</summary>
    public static long AverageCents(long totalCents, long count)
    {
        if (count <= 0)
        {
            return 0;
        }

        var sign = totalCents < 0 ? -1 : 1;
        var magnitude = Int128.Abs(totalCents);
        return sign * (long)(((2 * magnitude) + count) / (2 * (Int128)count));
    }

    public static DateOnly Date(long micros) => DateOnly.FromDateTime(Instant(micros).UtcDateTime);
}
