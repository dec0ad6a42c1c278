using System.Buffers.Binary;

namespace BaloyiBank.DuckDb.Native;

/// <summary>
/// Exact conversions between .NET values and DuckDB's physical representations. Decimals move
/// as scaled integers (never through double); timestamps as microseconds since the Unix epoch.
/// </summary>
internal static class ValueCodec
{
    internal const int MaxDecimalWidth = 38;

    private const long UnixEpochTicks = 621_355_968_000_000_000; // DateTime.UnixEpoch.Ticks
    private const int UnixEpochDayNumber = 719_162; // DateOnly(1970, 1, 1).DayNumber
    private static readonly UInt128 DecimalMaxMantissa = (UInt128.One << 96) - 1;
    private static readonly Int128[] Powers = BuildPowers();

    internal static Int128 Pow10(int exponent) => Powers[exponent];

    /// <summary>
    /// The integer <paramref name="value"/> × 10^scale, when that is exact and fits DECIMAL(width, scale);
    /// otherwise null and a reason. Extra fractional digits are refused, never truncated or rounded.
    /// </summary>
    internal static Int128? ToScaled(decimal value, int width, int scale, out string? error)
    {
        var (mantissa, valueScale, negative) = Split(value);
        error = null;
        if (valueScale > scale)
        {
            var (quotient, remainder) = Int128.DivRem(mantissa, Powers[valueScale - scale]);
            if (remainder != 0)
            {
                error = $"{value} has more than {scale} decimal places; round it first";
                return null;
            }

            mantissa = quotient;
        }
        else if (valueScale < scale)
        {
            var factor = Powers[scale - valueScale];
            if (mantissa > Powers[MaxDecimalWidth] / factor)
            {
                error = $"{value} is out of range for DECIMAL({width},{scale})";
                return null;
            }

            mantissa *= factor;
        }

        if (mantissa >= Powers[width])
        {
            error = $"{value} is out of range for DECIMAL({width},{scale})";
            return null;
        }

        return negative ? -mantissa : mantissa;
    }

    /// <summary>The value as DuckDB's DECIMAL(width, scale) with its own scale (for binding).</summary>
    internal static DuckDbDecimalNative ToNativeDecimal(decimal value)
    {
        var (mantissa, scale, negative) = Split(value);
        var digits = 1;
        while (digits < MaxDecimalWidth && mantissa >= Powers[digits])
        {
            digits++;
        }

        var signed = negative ? -mantissa : mantissa;
        return new DuckDbDecimalNative
        {
            Width = (byte)Math.Max(digits, Math.Max(scale, 1)),
            Scale = (byte)scale,
            Value = ToHugeInt(signed),
        };
    }

    /// <summary>A scaled integer back to <see cref="decimal"/>; throws when System.Decimal cannot hold it exactly.</summary>
    internal static decimal FromScaled(Int128 unscaled, int scale)
    {
        var negative = Int128.IsNegative(unscaled);
        var magnitude = negative ? (UInt128)(-unscaled) : (UInt128)unscaled;
        var originalScale = scale;

        // System.Decimal holds 96 bits and at most 28 decimal places: trailing zeros beyond either
        // limit (e.g. 123 stored in DECIMAL(38,10)) are dropped, which keeps the value exact.
        while ((scale > 28 || magnitude > DecimalMaxMantissa) && scale > 0 && magnitude % 10 == 0)
        {
            magnitude /= 10;
            scale--;
        }

        if (scale > 28 || magnitude > DecimalMaxMantissa)
        {
            throw new OverflowException(
                $"The DECIMAL value {unscaled}e-{originalScale} does not fit System.Decimal (at most 96 bits and 28 decimal places); cast it in SQL.");
        }

        return new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), (int)(uint)(magnitude >> 64), negative, (byte)scale);
    }

    internal static Int128 FromHugeInt(ulong lower, long upper) => new((ulong)upper, lower);

    internal static DuckDbHugeInt ToHugeInt(Int128 value) =>
        new() { Lower = (ulong)(value & ulong.MaxValue), Upper = (long)(value >> 64) };

    /// <summary>Microseconds since the epoch (UTC); sub-microsecond ticks are dropped (floored).</summary>
    internal static long ToMicros(DateTimeOffset value) => FloorDiv(value.UtcTicks - UnixEpochTicks, 10);

    internal static long FloorDiv(long value, long divisor)
    {
        var (quotient, remainder) = Math.DivRem(value, divisor);
        return remainder < 0 ? quotient - 1 : quotient;
    }

    internal static DateTimeOffset FromMicros(long micros) => FromTicksSinceEpoch(micros, 10, "TIMESTAMP");

    internal static DateTimeOffset FromTicksSinceEpoch(long units, long ticksPerUnit, string type)
    {
        const long maxTicks = 3_155_378_975_999_999_999; // DateTimeOffset.MaxValue.UtcTicks
        var ticksSinceEpoch = (Int128)units * ticksPerUnit;
        var ticks = ticksSinceEpoch + UnixEpochTicks;
        if (ticks < 0 || ticks > maxTicks)
        {
            throw new OverflowException($"The {type} value ({units}) is outside DateTimeOffset's range (years 1 to 9999), e.g. infinity.");
        }

        return new DateTimeOffset((long)ticks, TimeSpan.Zero);
    }

    internal static int ToDays(DateOnly value) => value.DayNumber - UnixEpochDayNumber;

    internal static DateOnly FromDays(int days)
    {
        var dayNumber = (long)days + UnixEpochDayNumber;
        if (dayNumber < DateOnly.MinValue.DayNumber || dayNumber > DateOnly.MaxValue.DayNumber)
        {
            throw new OverflowException($"The DATE value ({days} days since 1970-01-01) is outside DateOnly's range, e.g. infinity.");
        }

        return DateOnly.FromDayNumber((int)dayNumber);
    }

    /// <summary>
    /// A UUID in a vector: a hugeint of its big-endian bytes with the top bit flipped (so UUIDs sort
    /// as their text does).
    /// </summary>
    internal static Guid FromUuid(ulong lower, long upper)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, (ulong)upper ^ (1UL << 63));
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], lower);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>The vector form of <paramref name="value"/> (see <see cref="FromUuid"/>).</summary>
    internal static DuckDbHugeInt ToUuidStorage(Guid value)
    {
        var plain = ToUuidValue(value);
        return new DuckDbHugeInt { Lower = plain.Lower, Upper = (long)(plain.Upper ^ (1UL << 63)) };
    }

    /// <summary>The plain 128-bit form <c>duckdb_create_uuid</c> takes (it flips the bit itself).</summary>
    internal static DuckDbUHugeInt ToUuidValue(Guid value)
    {
        Span<byte> bytes = stackalloc byte[16];
        _ = value.TryWriteBytes(bytes, bigEndian: true, out _);
        return new DuckDbUHugeInt
        {
            Upper = BinaryPrimitives.ReadUInt64BigEndian(bytes),
            Lower = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
        };
    }

    private static (Int128 Mantissa, int Scale, bool Negative) Split(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        _ = decimal.GetBits(value, bits);
        var mantissa = ((UInt128)(uint)bits[2] << 64) | ((UInt128)(uint)bits[1] << 32) | (uint)bits[0];
        return ((Int128)mantissa, (bits[3] >> 16) & 0xFF, bits[3] < 0);
    }

    private static Int128[] BuildPowers()
    {
        var powers = new Int128[MaxDecimalWidth + 1];
        powers[0] = 1;
        for (var i = 1; i < powers.Length; i++)
        {
            powers[i] = powers[i - 1] * 10;
        }

        return powers;
    }
}
