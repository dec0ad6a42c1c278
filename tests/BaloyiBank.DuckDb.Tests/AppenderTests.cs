namespace BaloyiBank.DuckDb.Tests;

public sealed class AppenderTests : IDisposable
{
    private readonly DuckDbDatabase database = DuckDbDatabase.Open();
    private readonly DuckDbConnection connection;

    public AppenderTests()
    {
        connection = database.Connect();
        connection.Execute("CREATE TABLE t (id BIGINT PRIMARY KEY, amount DECIMAL(18,2), note VARCHAR, ok BOOLEAN NOT NULL)");
    }

    public void Dispose()
    {
        connection.Dispose();
        database.Dispose();
    }

    private List<object?[]> Rows()
    {
        using var result = connection.Query("SELECT * FROM t ORDER BY id");
        return result.ReadAll();
    }

    [Fact]
    public void The_appender_describes_the_table_columns()
    {
        using var appender = connection.CreateAppender("t");

        Assert.Equal(["id BIGINT", "amount DECIMAL(18,2)", "note VARCHAR", "ok BOOLEAN"], appender.Columns.Select(c => c.ToString()));
    }

    [Fact]
    public void A_refused_value_discards_only_its_row_and_the_appender_goes_on()
    {
        using (var appender = connection.CreateAppender("t"))
        {
            appender.Append(1L).Append(1.10m).Append("first").Append(true).EndRow();

            // The note column gets NULL, then the row fails: that NULL must not leak into the next row.
            appender.Append(2L).Append(2m).AppendNull();
            var error = Assert.Throws<DuckDbException>(() => appender.Append(0.5));
            Assert.Contains("column 'ok' (BOOLEAN)", error.Message);
            Assert.Contains("the row was discarded", error.Message);

            appender.Append(3L).Append(-0.01m).Append("third").Append(false).EndRow();
            Assert.Throws<DuckDbException>(() => appender.Append(4L).Append(1.001m));
            appender.Append(5L).Append(5m).Append("fifth").Append(true).EndRow();
            Assert.Equal(3, appender.RowsAppended);
        }

        Assert.Equal(
            [[1L, 1.10m, "first", true], [3L, -0.01m, "third", false], [5L, 5.00m, "fifth", true]],
            Rows());
    }

    [Fact]
    public void A_refused_last_row_is_not_written_when_the_appender_closes()
    {
        using (var appender = connection.CreateAppender("t"))
        {
            appender.Append(1L).Append(1m).Append("kept").Append(true).EndRow();
            Assert.Throws<DuckDbException>(() => appender.Append(2L).Append(2m).Append("refused").Append("not a bool"));
            appender.Close();
        }

        Assert.Equal([[1L, 1.00m, "kept", true]], Rows());
    }

    [Fact]
    public void Too_few_or_too_many_values_are_refused_and_the_row_discarded()
    {
        using var appender = connection.CreateAppender("t");

        var few = Assert.Throws<DuckDbException>(() => appender.Append(1L).Append(1m).EndRow());
        Assert.Contains("row ended after 2 of 4 values", few.Message);

        var many = Assert.Throws<DuckDbException>(() => appender.Append(1L).Append(1m).Append("x").Append(true).Append("extra"));
        Assert.Contains("past the last of the 4 columns", many.Message);

        appender.Append(9L).AppendNull().AppendNull().Append(true).EndRow();
        appender.Close();
        Assert.Equal([[9L, null, null, true]], Rows());
    }

    [Fact]
    public void A_constraint_failure_faults_the_appender_and_writes_nothing_of_the_failed_batch()
    {
        connection.Execute("INSERT INTO t VALUES (1, 0, 'existing', true)");
        var appender = connection.CreateAppender("t");
        appender.Append(2L).Append(2m).Append("new").Append(true).EndRow();
        appender.Append(1L).Append(1m).Append("duplicate key").Append(true).EndRow();

        var error = Assert.Throws<DuckDbException>(appender.Close);
        Assert.Equal("close", error.Operation);
        Assert.Equal(DuckDbErrorType.Constraint, error.ErrorType);
        Assert.Contains("Duplicate key", error.Message);

        var reuse = Assert.Throws<InvalidOperationException>(() => appender.Append(3L));
        Assert.Contains("failed earlier", reuse.Message);
        appender.Dispose();

        Assert.Equal([[1L, 0.00m, "existing", true]], Rows());
    }

    [Fact]
    public void A_not_null_violation_is_reported_by_flush()
    {
        using var appender = connection.CreateAppender("t");
        appender.Append(1L).Append(1m).Append("x").AppendNull().EndRow();

        var error = Assert.Throws<DuckDbException>(appender.Flush);

        Assert.Equal("flush", error.Operation);
        Assert.Contains("NOT NULL constraint failed", error.Message);
        Assert.Empty(Rows());
    }

    [Fact]
    public void Many_rows_cross_chunk_boundaries_with_nulls_and_long_strings_intact()
    {
        const int count = 10_000;
        using (var appender = connection.CreateAppender("t"))
        {
            for (var i = 0; i < count; i++)
            {
                appender.Append((long)i)
                    .Append(i % 5 == 0 ? null : i / 100m)
                    .Append(i % 7 == 0 ? null : i % 2 == 0 ? $"n{i}" : $"a longer note number {i} — Zoë")
                    .Append(i % 3 == 0)
                    .EndRow();
            }
        }

        var rows = Rows();
        Assert.Equal(count, rows.Count);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(
                [(long)i, i % 5 == 0 ? null : i / 100m, i % 7 == 0 ? null : i % 2 == 0 ? $"n{i}" : $"a longer note number {i} — Zoë", i % 3 == 0],
                rows[i]);
        }
    }

    [Fact]
    public void Appending_inside_a_transaction_is_all_or_nothing()
    {
        connection.Execute("BEGIN TRANSACTION");
        using (var appender = connection.CreateAppender("t"))
        {
            appender.Append(1L).Append(1m).Append("x").Append(true).EndRow();
        }

        Assert.Single(Rows());
        connection.Execute("ROLLBACK");
        Assert.Empty(Rows());
    }

    [Fact]
    public void Every_supported_column_type_takes_its_dotnet_value()
    {
        connection.Execute("""
            CREATE TABLE all_types (
                ti TINYINT, si SMALLINT, i INTEGER, bi BIGINT, ui UINTEGER, ub UBIGINT, hi HUGEINT,
                d DOUBLE, f FLOAT, m4 DECIMAL(4,1), m9 DECIMAL(9,3), m38 DECIMAL(38,10), m_from_long DECIMAL(18,2),
                ts TIMESTAMP, tz TIMESTAMPTZ, ns TIMESTAMP_NS, dt DATE, u UUID, bl BLOB, s VARCHAR)
            """);
        var instant = new DateTimeOffset(2025, 7, 1, 12, 0, 0, TimeSpan.FromHours(2)).AddTicks(1_234_567);
        var guid = Guid.NewGuid();
        using (var appender = connection.CreateAppender("all_types"))
        {
            appender.Append(-128).Append((short)32767).Append(int.MinValue).Append(long.MaxValue).Append(uint.MaxValue).Append(long.MaxValue).Append(long.MinValue)
                .Append(Math.PI).Append(0.5).Append(-999.9m).Append(123456.789m).Append(-1234567890123456789012345678.0123456789m).Append(42L)
                .Append(instant).Append(instant).Append(instant).Append(new DateOnly(2000, 1, 1)).Append(guid).Append([1, 2, 3]).Append(new string('x', 5000))
                .EndRow();

            Assert.Throws<DuckDbException>(() => appender.Append(128));
            Assert.Throws<DuckDbException>(() => appender.Append(1).Append(32768));
            Assert.Throws<DuckDbException>(() => appender.Append(1).Append(1).Append(1).Append(1).Append(-1L));
            Assert.Throws<DuckDbException>(() => appender.Append(1).Append(1).Append(1).Append(1).Append(1).Append(1).Append(1)
                .Append(1.0).Append(1.0).Append(1m).Append(1m).Append(1m).Append(1m).Append(instant).Append(instant).Append(DateTimeOffset.MaxValue));
        }

        using var result = connection.Query("SELECT * FROM all_types");
        Assert.True(result.Read());
        Assert.Equal((sbyte)-128, result.GetValue(0));
        Assert.Equal((short)32767, result.GetValue(1));
        Assert.Equal(int.MinValue, result.GetValue(2));
        Assert.Equal(long.MaxValue, result.GetValue(3));
        Assert.Equal(uint.MaxValue, result.GetValue(4));
        Assert.Equal((ulong)long.MaxValue, result.GetValue(5));
        Assert.Equal((Int128)long.MinValue, result.GetValue(6));
        Assert.Equal(Math.PI, result.GetDouble(7));
        Assert.Equal(0.5f, result.GetValue(8));
        Assert.Equal(-999.9m, result.GetDecimal(9));
        Assert.Equal(123456.789m, result.GetDecimal(10));
        Assert.Equal(-1234567890123456789012345678.0123456789m, result.GetDecimal(11));
        Assert.Equal(42.00m, result.GetDecimal(12));
        Assert.Equal(instant.AddTicks(-7), result.GetTimestamp(13));
        Assert.Equal(instant.AddTicks(-7), result.GetTimestamp(14));
        Assert.Equal(instant, result.GetTimestamp(15));
        Assert.Equal(new DateOnly(2000, 1, 1), result.GetDate(16));
        Assert.Equal(guid, result.GetGuid(17));
        Assert.Equal(guid.ToString(), connection.ExecuteScalar<string>("SELECT u::VARCHAR FROM all_types"));
        Assert.Equal([1, 2, 3], result.GetBlob(18));
        Assert.Equal(5000, result.GetString(19).Length);
    }
}
