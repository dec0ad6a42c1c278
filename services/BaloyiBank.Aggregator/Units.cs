namespace BaloyiBank.Aggregator;

/// <summary>
/// Exact integer units the fold keeps internally: money as whole cents (long), instants as microseconds since
/// the Unix epoch (Delta's timestamp precision). Decimal in, decimal out; never a double.
/// </summary>
internal static class Units
{
    public const long NoTime = long.MinValue;

    /// <summary>
    /// Degrees as whole micro-degrees, rounded half away from zero (DuckDB's <c>round</c> on a double agrees, so the
    /// verifier recomputes the same sums). A place is data, not money: the one double the fold reads.
    /// </summary>
    public static int MicroDegrees(double degrees) => (int)Math.Round(degrees * 1_000_000d, MidpointRounding.AwayFromZero);

    public static long Cents(decimal amount)
    {
        // Fast exact path: at most two places and a 63-bit mantissa (every amount silver holds); integer
        // arithmetic only, overflow-checked. Anything else goes through decimal arithmetic below.
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(amount, bits);
        var scale = (bits[3] >> 16) & 0xFF;
        if (bits[2] == 0 && bits[1] >= 0 && scale <= 2)
        {
            var mantissa = ((long)bits[1] << 32) | (uint)bits[0];
            var cents = scale switch
            {
                2 => mantissa,
                1 => checked(mantissa * 10),
                _ => checked(mantissa * 100),
            };
            return bits[3] < 0 ? -cents : cents;
        }

        return CentsSlow(amount);
    }

    private static long CentsSlow(decimal amount)
    {
        var scaled = amount * 100m;
        var cents = decimal.ToInt64(scaled);
        if (cents != scaled)
        {
            throw new ArgumentException($"Money must have at most two decimal places (got {amount}).", nameof(amount));
        }

        return cents;
    }

    /// <summary>Whole cents as a decimal with two places (built from its parts: no decimal division).</summary>
    public static decimal Money(long cents)
    {
        var magnitude = cents < 0 ? (ulong)-(cents + 1) + 1 : (ulong)cents;
        return new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), 0, cents < 0, 2);
    }

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

    /// <summary>The UTC date of an instant in microseconds (floored, so instants before 1970 work too).</summary>
    public static DateOnly Date(long micros)
    {
        var days = Math.DivRem(micros, MicrosPerDay, out var rest);
        if (rest < 0)
        {
            days--;
        }

        return DateOnly.FromDayNumber(checked((int)(days + EpochDayNumber)));
    }

    private const long MicrosPerDay = 86_400_000_000;

    // DateOnly(1970, 1, 1).DayNumber.
    private const int EpochDayNumber = 719_162;
}
