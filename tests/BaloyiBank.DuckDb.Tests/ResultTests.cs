namespace BaloyiBank.DuckDb.Tests;

public sealed class ResultTests : IDisposable
{
    private readonly DuckDbDatabase database = DuckDbDatabase.Open(null, new DuckDbConfig { Threads = 2, MemoryLimit = "512MB" });
    private readonly DuckDbConnection connection;

    public ResultTests() => connection = database.Connect();

    public void Dispose()
    {
        connection.Dispose();
        database.Dispose();
    }

    [Fact]
    public void Rows_are_read_across_many_chunks()
    {
        using var result = connection.Query("SELECT range AS n, range::VARCHAR AS s FROM range(100000)");
        long sum = 0;
        var rows = 0;
        while (result.Read())
        {
            sum += result.GetInt64(0);
            Assert.Equal(result.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture), result.GetString(1));
            rows++;
        }

        Assert.Equal(100_000, rows);
        Assert.Equal(4_999_950_000, sum);
        Assert.False(result.Read());
    }

    [Fact]
    public void Strings_decode_inline_and_pointer_forms_as_utf8()
    {
        string[] values = ["", "a", "Zoë", "123456789012", "1234567890123", "Gqeberha — Nelson Mandela Bay", "銀行🏦", new string('é', 3000)];
        using var statement = connection.Prepare("SELECT $1");
        foreach (var value in values)
        {
            statement.Bind(1, value);
            using var result = statement.Query();
            Assert.True(result.Read());
            Assert.Equal(value, result.GetString(0));
        }
    }

    [Fact]
    public void Get_and_execute_scalar_handle_nulls_by_the_requested_type()
    {
        Assert.Null(connection.ExecuteScalar<long?>("SELECT NULL::BIGINT"));
        Assert.Null(connection.ExecuteScalar<string?>("SELECT NULL::VARCHAR"));
        Assert.Null(connection.ExecuteScalar<long?>("SELECT 1 WHERE false"));
        Assert.Equal(3L, connection.ExecuteScalar<long?>("SELECT 3"));
        Assert.Throws<InvalidCastException>(() => connection.ExecuteScalar<long>("SELECT NULL::BIGINT"));
        Assert.Throws<InvalidOperationException>(() => connection.ExecuteScalar<long>("SELECT 1 WHERE false"));
        Assert.Equal(12.5m, connection.ExecuteScalar<decimal>("SELECT 12.50::DECIMAL(4,2)"));
        Assert.Equal(12.5m, connection.ExecuteScalar<object>("SELECT 12.50::DECIMAL(4,2)"));
        Assert.Equal(7, connection.ExecuteScalar<int>("SELECT 7::BIGINT"));
        Assert.Throws<OverflowException>(() => connection.ExecuteScalar<int>("SELECT 7000000000::BIGINT"));
    }

    [Fact]
    public void Decimals_of_every_storage_width_read_exactly()
    {
        using var result = connection.Query("""
            SELECT -999.9::DECIMAL(4,1), 99999.9999::DECIMAL(9,4), -9999999999999999.99::DECIMAL(18,2),
                   99999999999999999999999999.999999999999::DECIMAL(38,12), 0.123::DECIMAL(38,37), 0.1::DOUBLE
            """);
        Assert.True(result.Read());
        Assert.Equal(-999.9m, result.GetDecimal(0));
        Assert.Equal(99999.9999m, result.GetDecimal(1));
        Assert.Equal(-9999999999999999.99m, result.GetDecimal(2));
        Assert.Throws<OverflowException>(() => result.GetDecimal(3));
        Assert.Equal(0.123m, result.GetDecimal(4));
        Assert.Throws<InvalidCastException>(() => result.GetDecimal(5));
    }

    [Fact]
    public void Getters_need_a_current_row_and_name_the_column_on_null()
    {
        using var result = connection.Query("SELECT NULL::INTEGER AS maybe");
        Assert.Throws<InvalidOperationException>(() => result.GetInt32(0));
        Assert.True(result.Read());
        Assert.True(result.IsNull(0));
        Assert.Null(result.GetValue(0));
        var error = Assert.Throws<InvalidCastException>(() => result.GetInt32(0));
        Assert.Contains("'maybe' is NULL", error.Message);
        Assert.Equal(0, result.GetOrdinal("MAYBE"));
        Assert.Throws<ArgumentOutOfRangeException>(() => result.IsNull(1));
    }

    [Fact]
    public void Execute_reports_rows_changed()
    {
        Assert.Equal(0, connection.Execute("CREATE TABLE t (a INTEGER)"));
        Assert.Equal(3, connection.Execute("INSERT INTO t VALUES (1), (2), (3)"));
        Assert.Equal(2, connection.Execute("UPDATE t SET a = a + 10 WHERE a > 1"));
        Assert.Equal(1, connection.Execute("DELETE FROM t WHERE a = 1"));
        Assert.Equal("v1.5.6", DuckDbDatabase.LibraryVersion);
    }

    [Fact]
    public void Connections_start_in_utc_and_many_threads_may_use_their_own_connections()
    {
        Assert.Equal("UTC", connection.ExecuteScalar<string>("SELECT current_setting('TimeZone')"));
        connection.Execute("CREATE TABLE counter (worker INTEGER, n INTEGER)");

        Parallel.For(0, 4, worker =>
        {
            using var own = database.Connect();
            using var appender = own.CreateAppender("counter");
            for (var n = 0; n < 1000; n++)
            {
                appender.Append(worker).Append(n).EndRow();
            }
        });

        Assert.Equal(4000, connection.ExecuteScalar<long>("SELECT count(*) FROM counter"));
    }
}
