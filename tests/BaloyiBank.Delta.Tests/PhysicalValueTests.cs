namespace BaloyiBank.Delta.Tests;

/// <summary>Decimals reach Parquet.Net as their unscaled INT64 (ParquetColumnWriter.WrittenField): exact for every value a buffer takes.</summary>
public sealed class PhysicalValueTests
{
    [Theory]
    [InlineData("0", 2, 0L)]
    [InlineData("12.34", 2, 1234L)]
    [InlineData("-12.34", 2, -1234L)]
    [InlineData("12.3", 2, 1230L)]
    [InlineData("7", 6, 7_000_000L)]
    [InlineData("0.000001", 6, 1L)]
    [InlineData("-0.000001", 6, -1L)]
    [InlineData("1.500", 2, 150L)]
    [InlineData("9999999999999999.99", 2, 999_999_999_999_999_999L)]
    [InlineData("-9999999999999999.99", 2, -999_999_999_999_999_999L)]
    [InlineData("999999999999.999999", 6, 999_999_999_999_999_999L)]
    [InlineData("1.50000000000000000000", 2, 150L)]
    [InlineData("-42.00000000000000000000000", 6, -42_000_000L)]
    public void Unscaled_decimals_are_exact(string value, int scale, long expected)
    {
        var d = decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expected, ParquetColumnWriter.Unscaled(d, scale));
    }

    [Fact]
    public void Unscaled_agrees_with_decimal_arithmetic_on_random_values()
    {
        var random = new Random(14);
        for (var i = 0; i < 100_000; i++)
        {
            var scale = i % 2 == 0 ? 2 : 6;
            var unscaled = random.NextInt64(-999_999_999_999_999_999L, 999_999_999_999_999_999L);
            // Some with fewer places than the column's scale (as parsed from the wire).
            var value = new decimal(unscaled) / (decimal)Math.Pow(10, scale);
            var trimmed = i % 3 == 0 ? value / 1.000000000000000000000000000m : value;
            Assert.Equal(decimal.ToInt64(trimmed * (decimal)Math.Pow(10, scale)), ParquetColumnWriter.Unscaled(trimmed, scale));
        }
    }
}
