namespace BaloyiBank.Generator;

/// <summary>
/// exp and log from + - * / and exact scaling only: Math.Exp/Log come from the platform's libm and
/// may differ in the last bit between runtimes, which would change a rounded cent somewhere.
/// Accurate to about 1e-15 relative, more than amounts rounded to cents need.
/// </summary>
internal static class ReproducibleMath
{
    private const double Ln2Hi = 6.93147180369123816490e-01;
    private const double Ln2Lo = 1.90821492927058770002e-10;
    private const double Ln2 = 0.6931471805599453;
    private const double Sqrt2 = 1.4142135623730951;

    /// <summary>Natural logarithm of a positive, normal, finite number.</summary>
    public static double Log(double x)
    {
        if (!(x >= 2.2250738585072014e-308) || double.IsPositiveInfinity(x))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "Log needs a positive normal finite number.");
        }

        var bits = BitConverter.DoubleToInt64Bits(x);
        var exponent = (int)((bits >> 52) & 0x7FF) - 1023;
        var m = BitConverter.Int64BitsToDouble((bits & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        if (m > Sqrt2)
        {
            m *= 0.5;
            exponent++;
        }

        // ln m = 2 atanh t with |t| <= 0.1716, so t^2 <= 0.0295 and 12 odd terms reach 1e-18.
        var t = (m - 1.0) / (m + 1.0);
        var t2 = t * t;
        var series = 1.0 / 23.0;
        for (var k = 21; k >= 1; k -= 2)
        {
            series = (1.0 / k) + (t2 * series);
        }

        return (exponent * Ln2Hi) + ((2.0 * t * series) + (exponent * Ln2Lo));
    }

    /// <summary>e^x for |x| below 700.</summary>
    public static double Exp(double x)
    {
        if (!(Math.Abs(x) < 700.0))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "Exp is only needed (and exact enough) for |x| < 700.");
        }

        var k = Math.Round(x / Ln2);
        var r = (x - (k * Ln2Hi)) - (k * Ln2Lo);

        // |r| <= 0.35: Taylor to degree 17 leaves an error far below one ulp.
        var sum = 1.0;
        for (var n = 17; n >= 1; n--)
        {
            sum = 1.0 + (r * sum / n);
        }

        return Math.ScaleB(sum, (int)k);
    }
}
