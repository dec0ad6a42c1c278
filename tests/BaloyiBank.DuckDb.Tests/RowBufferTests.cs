namespace BaloyiBank.DuckDb.Tests;

public sealed class RowBufferTests : IDisposable
{
    private static readonly (string, string)[] Columns =
    [
        ("id", "BIGINT"), ("amount", "DECIMAL(18,2)"), ("note", "VARCHAR"), ("raw", "BLOB"), ("at", "TIMESTAMP WITH TIME ZONE"), ("day", "DATE"),
    ];

    private readonly DuckDbDatabase database = DuckDbDatabase.Open();
    private readonly DuckDbConnection connection;
    private readonly TempFolder folder = new();

    public RowBufferTests() => connection = database.Connect();

    public void Dispose()
    {
        connection.Dispose();
        database.Dispose();
        folder.Dispose();
    }

    private static void Fill(DuckDbRowBuffer buffer, int rows, int from = 0)
    {
        for (var i = from; i < from + rows; i++)
        {
            buffer.Append((long)i).Append(i / 100m);
            if (i % 7 == 0)
            {
                buffer.AppendNull();
            }
            else
            {
                // Short strings are stored inline in the vector, long ones in its heap: both must survive.
                buffer.Append(i % 2 == 0 ? $"n{i}" : $"a note long enough for the vector's string heap #{i}");
            }

            buffer.Append(new byte[] { (byte)i, (byte)(i >> 8), 0, 255 })
                .Append(DateTimeOffset.UnixEpoch.AddSeconds(i))
                .Append(new DateOnly(2026, 1, 1).AddDays(i % 30))
                .EndRow();
        }
    }

    [Fact]
    public void A_sealed_buffer_is_read_by_sql_with_every_value_and_null_as_written_across_many_chunks()
    {
        using var buffer = DuckDbRowBuffer.Create(connection, "rows", Columns);
        const int rows = 5_000; // two full chunks of 2,048 and a partial one
        Fill(buffer, rows);
        var scan = buffer.Seal();

        Assert.Equal(rows, buffer.RowCount);
        Assert.Equal(rows, connection.ExecuteScalar<long>($"SELECT count(*) FROM {scan}"));
        Assert.Equal(Enumerable.Range(0, rows).Sum(i => i / 100m), connection.ExecuteScalar<decimal>($"SELECT sum(amount) FROM {scan}"));
        Assert.Equal(Enumerable.Range(0, rows).Count(i => i % 7 == 0), connection.ExecuteScalar<long>($"SELECT count(*) FROM {scan} WHERE note IS NULL"));
        using var result = connection.Query($"SELECT id, note, raw, \"at\", \"day\" FROM {scan} WHERE id IN (0, 1, 2, 2047, 2048, 4999) ORDER BY id");
        var read = result.ReadAll();
        Assert.Equal([0L, 1L, 2L, 2047L, 2048L, 4999L], read.Select(r => (long)r[0]!));
        Assert.Null(read[0][1]);
        Assert.Equal("a note long enough for the vector's string heap #1", read[1][1]);
        Assert.Equal("n2", read[2][1]);
        Assert.Equal(new byte[] { 2047 & 255, 2047 >> 8, 0, 255 }, (byte[])read[3][2]!);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(4999), read[5][3]);
        Assert.Equal(new DateOnly(2026, 1, 1).AddDays(4999 % 30), read[5][4]);
    }

    [Fact]
    public void The_same_buffer_can_be_scanned_many_times_and_written_to_parquet_unchanged()
    {
        using var buffer = DuckDbRowBuffer.Create(connection, "rows", Columns);
        Fill(buffer, 3_000);
        var scan = buffer.Seal();
        var file = Path.Combine(folder.Path, "rows.parquet");

        connection.Execute($"COPY (SELECT * FROM {scan}) TO '{file}' (FORMAT parquet, COMPRESSION zstd)");
        var again = connection.ExecuteScalar<long>($"SELECT count(*) FROM {scan}");

        Assert.Equal(3_000, again);
        Assert.Equal(0, connection.ExecuteScalar<long>(
            $"SELECT count(*) FROM ((SELECT * FROM {scan} EXCEPT ALL SELECT * FROM read_parquet('{file}')) UNION ALL (SELECT * FROM read_parquet('{file}') EXCEPT ALL SELECT * FROM {scan}))"));
    }

    [Fact]
    public void Buffers_combine_with_union_all_and_are_visible_to_other_connections_of_the_database()
    {
        using var first = DuckDbRowBuffer.Create(connection, "first", Columns);
        using var second = DuckDbRowBuffer.Create(connection, "second", Columns);
        Fill(first, 100);
        Fill(second, 50, from: 100);
        var sql = $"SELECT count(*), count(DISTINCT id), max(id) FROM (SELECT * FROM {first.Seal()} UNION ALL SELECT * FROM {second.Seal()})";

        using var other = database.Connect();
        using var result = other.Query(sql);
        var row = Assert.Single(result.ReadAll());

        Assert.Equal([150L, 150L, 149L], row);
    }

    [Fact]
    public void An_empty_buffer_scans_as_no_rows_with_its_columns()
    {
        using var buffer = DuckDbRowBuffer.Create(connection, "empty", Columns);
        var scan = buffer.Seal();

        using var result = connection.Query($"SELECT * FROM {scan}");

        Assert.Empty(result.ReadAll());
        Assert.Equal(["id BIGINT", "amount DECIMAL(18,2)", "note VARCHAR", "raw BLOB", "at TIMESTAMP WITH TIME ZONE", "day DATE"], result.Columns.Select(c => c.ToString()));
    }

    [Fact]
    public void A_refused_value_drops_its_row_only_and_a_sealed_or_disposed_buffer_says_so()
    {
        var buffer = DuckDbRowBuffer.Create(connection, "rows", Columns);
        Fill(buffer, 2);
        var refused = Assert.Throws<DuckDbException>(() => buffer.Append(3L).Append(1.001m));
        Assert.Contains("row buffer 'rows'", refused.Message, StringComparison.Ordinal);
        Fill(buffer, 1, from: 3);
        var scan = buffer.Seal();

        Assert.Equal([0L, 1L, 3L], connection.Query($"SELECT id FROM {scan} ORDER BY id").ReadAll().Select(r => (long)r[0]!));
        Assert.Contains("sealed", Assert.Throws<InvalidOperationException>(() => buffer.Append(4L)).Message, StringComparison.Ordinal);

        buffer.Dispose();
        var gone = Assert.Throws<DuckDbException>(() => connection.Execute($"SELECT count(*) FROM {scan}"));
        Assert.Contains("no such sealed row buffer", gone.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_type_duckdb_does_not_know_is_refused_when_the_buffer_is_created()
    {
        var error = Assert.Throws<DuckDbException>(() => DuckDbRowBuffer.Create(connection, "bad", [("x", "NOT_A_TYPE")]));

        Assert.Contains("NOT_A_TYPE", error.Message, StringComparison.Ordinal);
    }
}
