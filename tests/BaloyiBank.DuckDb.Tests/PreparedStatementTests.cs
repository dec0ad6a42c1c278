namespace BaloyiBank.DuckDb.Tests;

public sealed class PreparedStatementTests : IDisposable
{
    private readonly DuckDbDatabase database = DuckDbDatabase.Open();
    private readonly DuckDbConnection connection;

    public PreparedStatementTests() => connection = database.Connect();

    public void Dispose()
    {
        connection.Dispose();
        database.Dispose();
    }

    [Fact]
    public void Every_bind_type_round_trips_through_a_table_exactly()
    {
        connection.Execute("""
            CREATE TABLE t (
                s VARCHAR, l BIGINT, i INTEGER, h SMALLINT, b BOOLEAN, d DOUBLE, m DECIMAL(18,2), w DECIMAL(38,10),
                ts TIMESTAMP, tz TIMESTAMPTZ, dt DATE, bl BLOB, u UUID, n INTEGER)
            """);
        var instant = new DateTimeOffset(2025, 6, 30, 23, 59, 59, TimeSpan.FromHours(2)).AddTicks(1_234_560);
        var blob = new byte[] { 0, 1, 2, 0xFF, 0x80, 0 };
        var guid = Guid.Parse("550e8400-e29b-41d4-a716-446655440000");

        using (var insert = connection.Prepare("INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"))
        {
            Assert.Equal(14, insert.ParameterCount);
            insert.Bind(1, "Gqeberha — Nelson Mandela Bay").Bind(2, long.MinValue).Bind(3, int.MaxValue).Bind(4, (short)-32768)
                .Bind(5, true).Bind(6, 0.1).Bind(7, 9999999999999999.99m).Bind(8, 1234567890123456789.0123456789m)
                .Bind(9, instant).Bind(10, instant).Bind(11, new DateOnly(2024, 2, 29)).Bind(12, blob).Bind(13, guid).BindNull(14);
            Assert.Equal(1, insert.Execute());

            // Rebinding reuses the statement; the object overload dispatches on the runtime type.
            object?[] second = ["Zoë", 0L, 0, (short)0, false, -0.0, -0.01m, -0.0000000001m, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, DateOnly.MinValue, Array.Empty<byte>(), Guid.Empty, 7];
            for (var p = 0; p < second.Length; p++)
            {
                insert.Bind(p + 1, second[p]);
            }

            Assert.Equal(1, insert.Execute());
        }

        using var result = connection.Query("SELECT * FROM t ORDER BY l");
        Assert.True(result.Read());
        Assert.Equal("Gqeberha — Nelson Mandela Bay", result.GetString(0));
        Assert.Equal(long.MinValue, result.GetInt64(1));
        Assert.Equal(int.MaxValue, result.GetInt32(2));
        Assert.Equal((short)-32768, result.GetInt16(3));
        Assert.True(result.GetBoolean(4));
        Assert.Equal(0.1, result.GetDouble(5));
        Assert.Equal(9999999999999999.99m, result.GetDecimal(6));
        Assert.Equal(1234567890123456789.0123456789m, result.GetDecimal(7));
        Assert.Equal(instant, result.GetTimestamp(8));
        Assert.Equal(instant, result.GetTimestamp(9));
        Assert.Equal(TimeSpan.Zero, result.GetTimestamp(9).Offset);
        Assert.Equal(new DateOnly(2024, 2, 29), result.GetDate(10));
        Assert.Equal(blob, result.GetBlob(11));
        Assert.Equal(guid, result.GetGuid(12));
        Assert.True(result.IsNull(13));

        Assert.True(result.Read());
        Assert.Equal(["Zoë", 0L, 0, (short)0, false, -0.0, -0.01m, -0.0000000001m, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, DateOnly.MinValue, Array.Empty<byte>(), Guid.Empty, 7], result.ReadAllCurrent());
        Assert.False(result.Read());
    }

    [Fact]
    public void Decimal_binding_is_exact_where_double_would_round()
    {
        using var statement = connection.Prepare("SELECT $1 + $2, ($1 + $2) = 0.3, $3, $4, $5::DECIMAL(18,2) = 1234567890123456.78");
        statement.Bind(1, 0.1m).Bind(2, 0.2m).Bind(3, decimal.MaxValue).Bind(4, 7.9228162514264337593543950335m).Bind(5, 1234567890123456.78m);

        using var result = statement.Query();
        Assert.True(result.Read());
        Assert.Equal(0.3m, result.GetDecimal(0));
        Assert.True(result.GetBoolean(1));
        Assert.Equal(decimal.MaxValue, result.GetDecimal(2));
        Assert.Equal(7.9228162514264337593543950335m, result.GetDecimal(3));
        Assert.True(result.GetBoolean(4));
        Assert.Equal((29, 0), (result.Columns[2].DecimalWidth, result.Columns[2].DecimalScale));
    }

    [Fact]
    public void Timestamps_bind_as_the_utc_instant_whatever_the_session_time_zone()
    {
        connection.Execute("SET TimeZone = 'Africa/Johannesburg'; CREATE TABLE ts (plain TIMESTAMP, zoned TIMESTAMPTZ)");
        var instant = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(-5)).AddTicks(60);

        using (var insert = connection.Prepare("INSERT INTO ts VALUES ($1, $2)"))
        {
            insert.Bind(1, instant).Bind(2, instant).Execute();
        }

        using var result = connection.Query("SELECT plain, zoned, strftime(plain, '%H:%M:%S.%f') FROM ts");
        Assert.True(result.Read());
        Assert.Equal(instant, result.GetTimestamp(0));
        Assert.Equal(instant, result.GetTimestamp(1));
        Assert.Equal("08:04:05.000006", result.GetString(2));
    }

    [Fact]
    public void Clear_bindings_then_execute_reports_the_unbound_parameter()
    {
        using var statement = connection.Prepare("SELECT $1::INTEGER");
        statement.Bind(1, 5);
        Assert.Equal(5, connection.ExecuteScalar<int>("SELECT 5"));
        using (var first = statement.Query())
        {
            Assert.True(first.Read());
            Assert.Equal(5, first.GetInt32(0));
        }

        statement.ClearBindings();
        var error = Assert.Throws<DuckDbException>(() => statement.Execute());
        Assert.Equal("execute", error.Operation);
        Assert.NotNull(error.DuckDbMessage);
    }

    [Fact]
    public void Binding_outside_the_parameter_range_names_the_valid_range()
    {
        using var statement = connection.Prepare("SELECT $1, $2");
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => statement.Bind(3, 1));
        Assert.Contains("1 to 2", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => statement.Bind(0, 1));
    }
}
