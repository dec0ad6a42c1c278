namespace BaloyiBank.Cleansing;

/// <summary>How an exact decimal read from a JSON number fared against a column's precision and scale.</summary>
internal enum DecimalVerdict : byte
{
    Exact,
    TooPrecise,
    OutOfRange,
}

/// <summary>
/// Strict parsers for the wire's scalar formats, straight from UTF-8: exact decimals (never via
/// double), ISO 8601 instants with a mandatory offset and plain ISO dates.
/// </summary>
internal static class WireValues
{
    /// <summary>Total digits of the silver decimals: decimal(18,2) for money, decimal(18,6) for rates.</summary>
    public const int DecimalPrecision = 18;

    private static readonly long[] PowersOfTen = BuildPowers();

    /// <summary>
    /// Reads a JSON number token (already well-formed per RFC 8259) as an exact count of
    /// 10^-<paramref name="scale"/> units. Exponents are allowed when the value stays exact
    /// (<c>1.25e2</c> is 125); <c>12.500</c> is 12.50. Values needing a finer scale are
    /// <see cref="DecimalVerdict.TooPrecise"/>; values with more than 18 − scale integer digits are
    /// <see cref="DecimalVerdict.OutOfRange"/>.
    /// </summary>
    public static DecimalVerdict ReadScaled(ReadOnlySpan<byte> number, int scale, out long units)
    {
        units = 0;
        var i = 0;
        var negative = number[0] == (byte)'-';
        if (negative)
        {
            i++;
        }

        // Digits of the mantissa (integer and fraction run together) and where the point was.
        var digitsStart = i;
        var digitCount = 0;
        var fractionDigits = 0;
        var firstNonZero = -1;
        var lastNonZero = -1;
        var inFraction = false;
        for (; i < number.Length; i++)
        {
            var b = number[i];
            if (b == (byte)'.')
            {
                inFraction = true;
                continue;
            }

            if (b is (byte)'e' or (byte)'E')
            {
                break;
            }

            if (b != (byte)'0')
            {
                if (firstNonZero < 0)
                {
                    firstNonZero = digitCount;
                }

                lastNonZero = digitCount;
            }

            digitCount++;
            if (inFraction)
            {
                fractionDigits++;
            }
        }

        long exponent = 0;
        if (i < number.Length)
        {
            i++;
            var exponentNegative = false;
            if (number[i] is (byte)'+' or (byte)'-')
            {
                exponentNegative = number[i] == (byte)'-';
                i++;
            }

            for (; i < number.Length; i++)
            {
                // Saturate: 1e999999999999 is as out of range as 1e400.
                exponent = Math.Min((exponent * 10) + (number[i] - '0'), 1_000_000_000L);
            }

            if (exponentNegative)
            {
                exponent = -exponent;
            }
        }

        if (firstNonZero < 0)
        {
            return DecimalVerdict.Exact; // zero, whatever its sign or notation
        }

        // Power of ten of the digit at position k: (digitCount − 1 − k) − fractionDigits + exponent.
        var highestPower = digitCount - 1 - firstNonZero - fractionDigits + exponent;
        var lowestPower = digitCount - 1 - lastNonZero - fractionDigits + exponent;
        if (highestPower >= DecimalPrecision - scale)
        {
            return DecimalVerdict.OutOfRange;
        }

        if (lowestPower < -scale)
        {
            return DecimalVerdict.TooPrecise;
        }

        // At most 18 significant digits now, so a long holds the units.
        long value = 0;
        var position = 0;
        for (var k = digitsStart; position <= lastNonZero; k++)
        {
            var b = number[k];
            if (b == (byte)'.')
            {
                continue;
            }

            if (position >= firstNonZero)
            {
                value = (value * 10) + (b - '0');
            }

            position++;
        }

        value *= PowersOfTen[lowestPower + scale];
        units = negative ? -value : value;
        return DecimalVerdict.Exact;
    }

    /// <summary>
    /// Plain decimals of up to 15 digits (every coordinate on the wire) as mantissa / 10^k: both
    /// exact doubles, so IEEE division gives the correctly rounded value, as a full parse would.
    /// </summary>
    public static bool TryReadShortDecimal(ReadOnlySpan<byte> number, out double value)
    {
        value = 0;
        var negative = number[0] == (byte)'-';
        long mantissa = 0;
        var digits = 0;
        var fraction = -1;
        for (var i = negative ? 1 : 0; i < number.Length; i++)
        {
            var b = number[i];
            if (b == (byte)'.')
            {
                fraction = 0;
                continue;
            }

            if (b is < (byte)'0' or > (byte)'9' || ++digits > 15)
            {
                return false; // exponent or too long: the full parser decides
            }

            mantissa = (mantissa * 10) + (b - '0');
            if (fraction >= 0)
            {
                fraction++;
            }
        }

        var magnitude = mantissa / ExactPowersOfTen[Math.Max(fraction, 0)];
        value = negative ? -magnitude : magnitude;
        return true;
    }

    private static readonly double[] ExactPowersOfTen = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

    /// <summary>A decimal with exactly <paramref name="scale"/> places from a count of units.</summary>
    public static decimal ToDecimal(long units, int scale)
    {
        var magnitude = units < 0 ? (ulong)-units : (ulong)units;
        return new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), 0, units < 0, (byte)scale);
    }

    /// <summary>
    /// Parses <c>yyyy-MM-ddTHH:mm:ss[.f…]</c> followed by <c>Z</c> or <c>±HH:MM</c> (ISO 8601
    /// extended format; up to 7 fractional digits) into a UTC instant. Instants without an offset
    /// are refused: their meaning depends on a time zone nobody wrote down.
    /// </summary>
    public static bool TryReadInstant(ReadOnlySpan<byte> text, out DateTimeOffset utc)
    {
        utc = default;
        if (text.Length < 20 || text[10] != (byte)'T' || text[13] != (byte)':' || text[16] != (byte)':'
            || !TryReadDateParts(text, out var year, out var month, out var day)
            || !TryDigits(text.Slice(11, 2), out var hour) || !TryDigits(text.Slice(14, 2), out var minute)
            || !TryDigits(text.Slice(17, 2), out var second)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var i = 19;
        long fraction = 0;
        if (text[i] == (byte)'.')
        {
            i++;
            var start = i;
            while (i < text.Length && IsDigit(text[i]))
            {
                i++;
            }

            var length = i - start;
            if (length is < 1 or > 7)
            {
                return false;
            }

            TryDigits(text.Slice(start, length), out var digits);
            fraction = digits * PowersOfTen[7 - length];
        }

        long offsetTicks;
        var rest = text[i..];
        if (rest.Length == 1 && rest[0] == (byte)'Z')
        {
            offsetTicks = 0;
        }
        else if (rest.Length == 6 && rest[0] is (byte)'+' or (byte)'-' && rest[3] == (byte)':'
                 && TryDigits(rest.Slice(1, 2), out var offsetHours) && TryDigits(rest.Slice(4, 2), out var offsetMinutes)
                 && offsetMinutes <= 59 && (offsetHours * 60) + offsetMinutes <= 14 * 60)
        {
            offsetTicks = ((offsetHours * 60) + offsetMinutes) * TimeSpan.TicksPerMinute * (rest[0] == (byte)'-' ? -1 : 1);
        }
        else
        {
            return false;
        }

        var local = new DateTime((int)year, (int)month, (int)day, (int)hour, (int)minute, (int)second).Ticks + fraction;
        var ticks = local - offsetTicks;
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        // Delta timestamps hold microseconds: cut here so that silver stores exactly this value.
        utc = new DateTimeOffset(ticks - (ticks % 10), TimeSpan.Zero);
        return true;
    }

    /// <summary>Parses exactly <c>yyyy-MM-dd</c>.</summary>
    public static bool TryReadDate(ReadOnlySpan<byte> text, out DateOnly date)
    {
        date = default;
        if (text.Length != 10 || !TryReadDateParts(text, out var year, out var month, out var day))
        {
            return false;
        }

        date = new DateOnly((int)year, (int)month, (int)day);
        return true;
    }

    private static bool TryReadDateParts(ReadOnlySpan<byte> text, out long year, out long month, out long day)
    {
        month = day = 0;
        if (!TryDigits(text[..4], out year) || text[4] != (byte)'-' || !TryDigits(text.Slice(5, 2), out month)
            || text[7] != (byte)'-' || !TryDigits(text.Slice(8, 2), out day))
        {
            return false;
        }

        return year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth((int)year, (int)month);
    }

    private static bool TryDigits(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        foreach (var b in text)
        {
            if (!IsDigit(b))
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return true;
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static long[] BuildPowers()
    {
        var powers = new long[19];
        powers[0] = 1;
        for (var i = 1; i < powers.Length; i++)
        {
            powers[i] = powers[i - 1] * 10;
        }

        return powers;
    }
}
