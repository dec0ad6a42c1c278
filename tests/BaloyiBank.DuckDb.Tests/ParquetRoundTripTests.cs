namespace BaloyiBank.DuckDb.Tests;

public sealed class ParquetRoundTripTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly DuckDbDatabase database = DuckDbDatabase.Open();
    private readonly DuckDbConnection connection;

    public ParquetRoundTripTests()
    {
        connection = database.Connect();
        connection.Execute("""
            CREATE TABLE txn (
                txn_id      VARCHAR NOT NULL,
                account_id  BIGINT,
                amount      DECIMAL(18,2),
                booked_at   TIMESTAMP,
                settled_at  TIMESTAMPTZ,
                seq         INTEGER,
                is_credit   BOOLEAN,
                description VARCHAR,
                value_date  DATE,
                big_amount  DECIMAL(38,6)
            )
            """);
    }

    public void Dispose()
    {
        connection.Dispose();
        database.Dispose();
        folder.Dispose();
    }

    private sealed record Txn(
        string TxnId, long? AccountId, decimal? Amount, DateTimeOffset? BookedAt, DateTimeOffset? SettledAt,
        int? Seq, bool? IsCredit, string? Description, DateOnly? ValueDate, decimal? BigAmount);

    private static readonly DateTimeOffset Base = new(2025, 3, 14, 9, 26, 53, TimeSpan.Zero);

    private static List<Txn> SampleRows()
    {
        List<Txn> rows =
        [
            new("TX-0001", 1, 0.01m, Base.AddTicks(5_897_930), Base.AddTicks(10), 1, true, "Gqeberha — Nelson Mandela Bay", new DateOnly(2025, 3, 14), 0.000001m),
            new("TX-0002", long.MaxValue, -123456789.99m, new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(1969, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_990), int.MaxValue, false, "Zoë", new DateOnly(1969, 7, 20), -1234567890123456789012.123456m),
            new("TX-0003", long.MinValue, 9999999999999999.99m, new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_990), new DateTimeOffset(2000, 2, 29, 12, 0, 0, TimeSpan.FromHours(2)), int.MinValue, null, "", new DateOnly(1, 1, 1), 9999999999999999999999.999999m),
            new("TX-0004", null, null, null, null, null, null, null, null, null),
            new("TX-0005", 0, -9999999999999999.99m, new DateTimeOffset(1900, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(10), Base, 0, true, "emoji 🏦 and CJK 銀行 and Ñandú", new DateOnly(9999, 12, 31), 0m),
            new("exactly12byt", -1, 0m, Base, Base, -1, false, "123456789012", DateOnly.FromDateTime(Base.UtcDateTime), -0.000001m),
        ];

        // Enough rows to cross several 2,048-row chunks, with NULLs spread over chunk boundaries.
        for (var i = 0; i < 7_000; i++)
        {
            rows.Add(new Txn(
                $"TX-{i:D9}-{(i % 3 == 0 ? "with a longer tail to leave the inline form" : "s")}",
                i % 97 == 0 ? null : 1_000_000_000_000L + i,
                i % 89 == 0 ? null : ((i * 7919L) % 1_000_000_00L - 50_000_000L) / 100m,
                i % 83 == 0 ? null : Base.AddTicks(i * 10_000_017L / 10 * 10),
                i % 79 == 0 ? null : Base.AddTicks(-i * 123_456_789L / 10 * 10),
                10 + i,
                i % 71 == 0 ? null : i % 2 == 0,
                i % 67 == 0 ? null : $"row {i} — Zoë",
                i % 61 == 0 ? null : new DateOnly(2024, 1, 1).AddDays(i % 900),
                i % 59 == 0 ? null : i * 1.000001m));
        }

        return rows;
    }

    private void AppendAll(IEnumerable<Txn> rows)
    {
        using var appender = connection.CreateAppender("txn");
        foreach (var r in rows)
        {
            appender.Append(r.TxnId).Append(r.AccountId).Append(r.Amount).Append(r.BookedAt).Append(r.SettledAt)
                .Append(r.Seq).Append(r.IsCredit).Append(r.Description).Append(r.ValueDate).Append(r.BigAmount)
                .EndRow();
        }

        appender.Close();
    }

    [Fact]
    public void Rows_written_to_parquet_through_the_appender_read_back_exactly()
    {
        var expected = SampleRows();
        AppendAll(expected);
        var file = folder.File("txn.parquet");

        connection.Execute($"COPY txn TO '{file}' (FORMAT parquet, COMPRESSION zstd)");

        using var result = connection.Query($"SELECT * FROM read_parquet('{file}') ORDER BY seq NULLS FIRST, txn_id");
        Assert.Equal(
            ["txn_id", "account_id", "amount", "booked_at", "settled_at", "seq", "is_credit", "description", "value_date", "big_amount"],
            result.ColumnNames);
        Assert.Equal(DuckDbType.Decimal, result.Columns[2].Type);
        Assert.Equal((18, 2), (result.Columns[2].DecimalWidth, result.Columns[2].DecimalScale));
        Assert.Equal(DuckDbType.Timestamp, result.Columns[3].Type);
        Assert.Equal(DuckDbType.TimestampTz, result.Columns[4].Type);

        var actual = new List<Txn>();
        while (result.Read())
        {
            actual.Add(new Txn(
                result.GetString(0),
                result.Get<long?>(1),
                result.Get<decimal?>(2),
                result.Get<DateTimeOffset?>(3),
                result.Get<DateTimeOffset?>(4),
                result.Get<int?>(5),
                result.Get<bool?>(6),
                result.Get<string?>(7),
                result.Get<DateOnly?>(8),
                result.Get<decimal?>(9)));
        }

        var ordered = expected.OrderBy(r => r.Seq.HasValue).ThenBy(r => r.Seq).ThenBy(r => r.TxnId, StringComparer.Ordinal).ToList();
        Assert.Equal(ordered.Count, actual.Count);
        for (var i = 0; i < ordered.Count; i++)
        {
            Assert.Equal(ordered[i], actual[i]);
        }

        // Spot checks on the values the brief names, independent of the record comparison.
        Assert.Equal(0.01m, connection.ExecuteScalar<decimal>($"SELECT amount FROM '{file}' WHERE txn_id = 'TX-0001'"));
        Assert.Equal(-123456789.99m, connection.ExecuteScalar<decimal>($"SELECT amount FROM '{file}' WHERE txn_id = 'TX-0002'"));
        Assert.Equal(9999999999999999.99m, connection.ExecuteScalar<decimal>($"SELECT amount FROM '{file}' WHERE txn_id = 'TX-0003'"));
        Assert.Equal("2025-03-14 09:26:53.589793", connection.ExecuteScalar<string>($"SELECT strftime(booked_at, '%Y-%m-%d %H:%M:%S.%f') FROM '{file}' WHERE txn_id = 'TX-0001'"));
        Assert.Equal("Gqeberha — Nelson Mandela Bay", connection.ExecuteScalar<string>($"SELECT description FROM '{file}' WHERE txn_id = 'TX-0001'"));
        Assert.Equal(1L, connection.ExecuteScalar<long>($"SELECT count(*) FROM '{file}' WHERE description = 'Zoë'"));
        Assert.Equal(expected.Count, connection.ExecuteScalar<long>($"SELECT count(*) FROM '{file}'"));
    }

    [Fact]
    public void Parquet_files_written_with_compression_zstd_use_zstd_for_every_column()
    {
        AppendAll(SampleRows());
        var file = folder.File("zstd.parquet");
        connection.Execute($"COPY txn TO '{file}' (FORMAT parquet, COMPRESSION zstd)");

        using var result = connection.Query($"SELECT path_in_schema, compression FROM parquet_metadata('{file}')");
        var rows = result.ReadAll();

        Assert.NotEmpty(rows);
        Assert.Equal(10, rows.Select(r => (string)r[0]!).Distinct().Count());
        Assert.All(rows, r => Assert.Equal("ZSTD", r[1]));
    }
}
