using FsCheck;
using FsCheck.Fluent;

namespace BaloyiBank.DuckDb.Tests;

public sealed class DecimalPropertyTests : IDisposable
{
    private const long MaxScaled = 999_999_999_999_999_999; // 9999999999999999.99 as cents

    private readonly TempFolder folder = new();
    private readonly DuckDbDatabase database = DuckDbDatabase.Open();
    private readonly DuckDbConnection connection;
    private int run;

    public DecimalPropertyTests() => connection = database.Connect();

    public void Dispose()
    {
        connection.Dispose();
        database.Dispose();
        folder.Dispose();
    }

    /// <summary>Any number of cents in DECIMAL(18,2)'s range, biased to small values and the edges.</summary>
    private static Gen<decimal> Money()
    {
        var small = Gen.Choose(-1_000_000, 1_000_000).Select(c => (long)c);
        var large = Gen.Choose(-999_999_999, 999_999_999).SelectMany(high => Gen.Choose(0, 999_999_999), (high, low) => (high * 1_000_000_000L) + (high < 0 ? -low : low));
        var edges = Gen.Elements(0L, 1L, -1L, 10L, MaxScaled, -MaxScaled, -12_345_678_999L, 100L);
        return Gen.Frequency((3, small), (4, large), (1, edges)).Select(cents => cents / 100m);
    }

    [Fact]
    public void Two_place_decimals_round_trip_exactly_through_append_parquet_and_read()
    {
        var batches = Gen.ArrayOf(Money()).Where(values => values.Length > 0).ToArbitrary();

        Prop.ForAll(batches, values =>
        {
            var table = $"money_{++run}";
            var file = folder.File($"{table}.parquet");
            connection.Execute($"CREATE TABLE {table} (seq INTEGER, amount DECIMAL(18,2))");
            using (var appender = connection.CreateAppender(table))
            {
                for (var i = 0; i < values.Length; i++)
                {
                    appender.Append(i).Append(values[i]).EndRow();
                }
            }

            connection.Execute($"COPY {table} TO '{file}' (FORMAT parquet, COMPRESSION zstd); DROP TABLE {table}");

            using var result = connection.Query($"SELECT amount FROM read_parquet('{file}') ORDER BY seq");
            var read = new List<decimal>();
            while (result.Read())
            {
                read.Add(result.GetDecimal(0));
            }

            return read.SequenceEqual(values);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Fact]
    public void More_places_than_the_scale_are_refused_not_rounded()
    {
        connection.Execute("CREATE TABLE money (amount DECIMAL(18,2))");
        using var appender = connection.CreateAppender("money");

        var error = Assert.Throws<DuckDbException>(() => appender.Append(0.005m));
        Assert.Contains("more than 2 decimal places", error.Message);
        var range = Assert.Throws<DuckDbException>(() => appender.Append(10_000_000_000_000_000m));
        Assert.Contains("out of range for DECIMAL(18,2)", range.Message);

        // Trailing zeros are not extra places.
        appender.Append(1.2300m).EndRow();
        appender.Close();
        Assert.Equal(1.23m, connection.ExecuteScalar<decimal>("SELECT amount FROM money"));
    }
}
