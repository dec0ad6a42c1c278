using System.Text.Json;

namespace BaloyiBank.Delta.Tests;

/// <summary>
/// Rows appended to <see cref="ColumnBuffer"/>s and written by Parquet.Net read back exactly through DuckDB (an
/// independent Parquet reader), with Delta statistics that agree with what DuckDB computes from the files.
/// </summary>
public sealed class ColumnBufferWriteTests : IDisposable
{
    private static readonly TableSchema Schema = new("every_type",
    [
        new("id", ColumnType.String),
        new("note", ColumnType.String, Nullable: true),
        new("seq", ColumnType.Long),
        new("small", ColumnType.Integer, Nullable: true),
        new("flag", ColumnType.Boolean),
        new("lat", ColumnType.Double),
        new("amount", ColumnType.Money),
        new("rate", ColumnType.Rate, Nullable: true),
        new("occurred_at", ColumnType.Timestamp),
        new("payload", ColumnType.Binary, Nullable: true),
        new("event_date", ColumnType.Date),
    ], ["event_date"]);

    private static readonly DateTimeOffset Start = new(2026, 3, 1, 23, 59, 0, TimeSpan.Zero);

    private readonly TestLake lake = new();

    public void Dispose() => lake.Dispose();

    private static void AppendRow(ColumnBuffer rows, int i)
    {
        var at = Start.AddSeconds(i * 30.3).AddTicks(i % 10);
        rows.Append($"id-{i:D5}")
            .Append(i % 4 == 0 ? null : i % 4 == 1 ? "ünï cødé 😀" : $"note {i}")
            .Append(1L << 40 | (long)i)
            .Append(i % 5 == 0 ? null : (int?)(-i))
            .Append(i % 2 == 0)
            .Append(-33.9 + (i / 1000.0))
            .Append(decimal.Round((i * 12.34m) - 500m, 2))
            .Append(i % 3 == 0 ? null : (decimal?)(i / 1_000_000m))
            .Append(at)
            .Append(i % 6 == 0 ? null : (byte[])[(byte)i, 0, 255])
            .Append(DateOnly.FromDateTime(at.UtcDateTime))
            .EndRow();
    }

    [Fact]
    public async Task Rows_of_every_type_from_several_buffers_read_back_exactly_one_file_per_partition()
    {
        using var table = lake.Table("silver/every_type");
        using var connection = TestLake.Connect();
        var snapshot = await table.CreateAsync(Schema);
        var first = new ColumnBuffer(Schema);
        var second = new ColumnBuffer(Schema);
        for (var i = 0; i < 3000; i++)
        {
            AppendRow(i % 3 == 0 ? second : first, i);
        }

        first.Seal();
        second.Seal();
        var adds = await new DeltaFileWriter(table, Schema).WriteAsync([first, second], "part-p0000-o000000000000-000000002999");
        var result = await table.CommitAsync(snapshot, new DeltaCommit { Adds = adds });

        // 3000 rows 30.3 s apart from 23:59 on 1 March: three UTC dates, one file each.
        Assert.Equal(["2026-03-01", "2026-03-02", "2026-03-03"], adds.Select(a => a.PartitionValues["event_date"]).Order(StringComparer.Ordinal));
        var from = (await table.GetReadSetAsync(result.Snapshot)).ToSql();
        Assert.Equal(3000, connection.ExecuteScalar<long>($"SELECT count(*) FROM {from}"));

        // Every value as written: compare a canonical text of each row, computed by DuckDB and by hand.
        using var query = connection.Query(
            $"""
            SELECT id, coalesce(note, '<null>'), seq, coalesce(small::VARCHAR, '<null>'), flag, lat, amount::VARCHAR, coalesce(rate::VARCHAR, '<null>'),
                   epoch_us(occurred_at), coalesce(hex(payload), '<null>'), event_date::VARCHAR
            FROM {from} ORDER BY id
            """);
        var read = 0;
        while (query.Read())
        {
            var i = int.Parse(query.GetString(0)[3..], System.Globalization.CultureInfo.InvariantCulture);
            var at = Start.AddSeconds(i * 30.3).AddTicks(i % 10);
            Assert.Equal(i % 4 == 0 ? "<null>" : i % 4 == 1 ? "ünï cødé 😀" : $"note {i}", query.GetString(1));
            Assert.Equal(1L << 40 | (long)i, query.GetInt64(2));
            Assert.Equal(i % 5 == 0 ? "<null>" : (-i).ToString(System.Globalization.CultureInfo.InvariantCulture), query.GetString(3));
            Assert.Equal(i % 2 == 0, query.GetBoolean(4));
            Assert.Equal(-33.9 + (i / 1000.0), query.GetDouble(5));
            Assert.Equal(decimal.Round((i * 12.34m) - 500m, 2).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), query.GetString(6));
            Assert.Equal(i % 3 == 0 ? "<null>" : (i / 1_000_000m).ToString("0.000000", System.Globalization.CultureInfo.InvariantCulture), query.GetString(7));
            Assert.Equal((at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10, query.GetInt64(8));
            Assert.Equal(i % 6 == 0 ? "<null>" : $"{(byte)i:X2}00FF", query.GetString(9));
            Assert.Equal(DateOnly.FromDateTime(at.UtcDateTime).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), query.GetString(10));
            read++;
        }

        Assert.Equal(3000, read);

        // The physical types readers rely on: UTC microsecond timestamps, decimal(18,2)/(18,6), DATE.
        var file = lake.FileOf(table.LakePathOf(adds[0].DataPath));
        Assert.Equal("TIMESTAMP WITH TIME ZONE|DECIMAL(18,2)|DECIMAL(18,6)|DATE", connection.ExecuteScalar<string>(
            $"SELECT string_agg(column_type, '|') FROM (DESCRIBE SELECT occurred_at, amount, rate, event_date FROM read_parquet('{file}'))"));
    }

    [Fact]
    public async Task A_buffer_reset_and_filled_again_writes_its_new_rows_not_the_old_ones()
    {
        using var table = lake.Table("silver/every_type");
        using var connection = TestLake.Connect();
        var snapshot = await table.CreateAsync(Schema);
        var rows = new ColumnBuffer(Schema);
        for (var i = 0; i < 2000; i++)
        {
            AppendRow(rows, i);
        }

        rows.Seal();
        var first = await new DeltaFileWriter(table, Schema).WriteAsync([rows], "part-p0000-o000000000000-000000001999");
        snapshot = (await table.CommitAsync(snapshot, new DeltaCommit { Adds = first })).Snapshot;

        // Same shapes and lengths at the same arena positions, other values: a stale value would read back here.
        rows.Reset();
        Assert.Equal(0, rows.RowCount);
        for (var i = 5000; i < 6500; i++)
        {
            AppendRow(rows, i);
        }

        rows.Seal();
        var second = await new DeltaFileWriter(table, Schema).WriteAsync([rows], "part-p0000-o000000002000-000000003499");
        snapshot = (await table.CommitAsync(snapshot, new DeltaCommit { Adds = second })).Snapshot;

        var from = (await table.GetReadSetAsync(snapshot)).ToSql();
        Assert.Equal(3500, connection.ExecuteScalar<long>($"SELECT count(DISTINCT id) FROM {from}"));
        Assert.Equal(1500, connection.ExecuteScalar<long>(
            $"SELECT count(*) FROM {from} WHERE id >= 'id-05000' AND coalesce(note, '<null>') = " +
            "CASE CAST(substr(id, 4) AS INT) % 4 WHEN 0 THEN '<null>' WHEN 1 THEN 'ünï cødé 😀' ELSE 'note ' || CAST(substr(id, 4) AS INT) END"));
        Assert.Equal(0, connection.ExecuteScalar<long>($"SELECT count(*) FROM {from} WHERE id >= 'id-05000' AND seq <> (1::BIGINT << 40 | CAST(substr(id, 4) AS BIGINT))"));
    }

    [Fact]
    public async Task Delta_statistics_agree_with_the_files()
    {
        using var table = lake.Table("silver/every_type");
        using var connection = TestLake.Connect();
        await table.CreateAsync(Schema);
        var rows = new ColumnBuffer(Schema);
        for (var i = 0; i < 2000; i++)
        {
            AppendRow(rows, i);
        }

        rows.Seal();
        var adds = await new DeltaFileWriter(table, Schema).WriteAsync([rows], "part-p0000-o000000000000-000000001999");
        foreach (var add in adds)
        {
            var file = lake.FileOf(table.LakePathOf(add.DataPath));
            using var stats = JsonDocument.Parse(add.Stats!);
            var root = stats.RootElement;
            Assert.Equal(connection.ExecuteScalar<long>($"SELECT count(*) FROM read_parquet('{file}')"), root.GetProperty("numRecords").GetInt64());
            foreach (var column in new[] { "note", "small", "rate", "payload" })
            {
                Assert.Equal(connection.ExecuteScalar<long>($"SELECT count(*) - count({column}) FROM read_parquet('{file}')"), root.GetProperty("nullCount").GetProperty(column).GetInt64());
            }

            Assert.Equal(connection.ExecuteScalar<string>($"SELECT min(id) FROM read_parquet('{file}')"), root.GetProperty("minValues").GetProperty("id").GetString());
            Assert.Equal(connection.ExecuteScalar<string>($"SELECT max(id) FROM read_parquet('{file}')"), root.GetProperty("maxValues").GetProperty("id").GetString());
            Assert.Equal(connection.ExecuteScalar<long>($"SELECT min(seq) FROM read_parquet('{file}')"), root.GetProperty("minValues").GetProperty("seq").GetInt64());
            Assert.Equal(connection.ExecuteScalar<decimal>($"SELECT max(amount) FROM read_parquet('{file}')"), root.GetProperty("maxValues").GetProperty("amount").GetDecimal());
            Assert.False(root.GetProperty("minValues").TryGetProperty("event_date", out _), "partition columns have no statistics");
            Assert.False(root.GetProperty("minValues").TryGetProperty("payload", out _), "binary columns have no bounds");
            // Timestamps are bounded to the millisecond the protocol stores: never tighter than the data.
            var minAt = DateTimeOffset.Parse(root.GetProperty("minValues").GetProperty("occurred_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            var maxAt = DateTimeOffset.Parse(root.GetProperty("maxValues").GetProperty("occurred_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(minAt.ToUnixTimeMilliseconds() * 1000 <= connection.ExecuteScalar<long>($"SELECT epoch_us(min(occurred_at)) FROM read_parquet('{file}')"));
            Assert.True(maxAt.ToUnixTimeMilliseconds() * 1000 >= connection.ExecuteScalar<long>($"SELECT epoch_us(max(occurred_at)) FROM read_parquet('{file}')"));
        }
    }

    [Fact]
    public async Task Column_chunks_read_back_what_the_buffers_wrote()
    {
        using var table = lake.Table("silver/every_type");
        var snapshot = await table.CreateAsync(Schema);
        var rows = new ColumnBuffer(Schema);
        for (var i = 0; i < 2500; i++)
        {
            AppendRow(rows, i);
        }

        rows.Seal();
        var adds = await new DeltaFileWriter(table, Schema).WriteAsync([rows], "part-p0000-o000000000000-000000002499");
        var result = await table.CommitAsync(snapshot, new DeltaCommit { Adds = adds });
        var readSet = await table.GetReadSetAsync(result.Snapshot);

        var seen = 0;
        await foreach (var chunk in ColumnChunk.ReadAsync(readSet, ["id", "note", "seq", "small", "amount", "rate", "occurred_at", "event_date"]))
        {
            var ids = chunk.Strings("id");
            for (var r = 0; r < chunk.RowCount; r++)
            {
                var i = int.Parse(ids[r]![3..], System.Globalization.CultureInfo.InvariantCulture);
                var at = Start.AddSeconds(i * 30.3).AddTicks(i % 10);
                Assert.Equal(i % 4 == 0 ? null : i % 4 == 1 ? "ünï cødé 😀" : $"note {i}", chunk.Strings("note")[r]);
                Assert.Equal(1L << 40 | (long)i, chunk.Longs("seq")[r]);
                Assert.Equal(i % 5 == 0 ? null : -i, chunk.Nullable<int>("small")[r]);
                Assert.Equal(decimal.Round((i * 12.34m) - 500m, 2), chunk.Decimals("amount")[r]);
                Assert.Equal(i % 3 == 0 ? null : i / 1_000_000m, chunk.Nullable<decimal>("rate")[r]);
                Assert.Equal((at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10, (chunk.Timestamps("occurred_at")[r].Ticks - DateTime.UnixEpoch.Ticks) / 10);
                Assert.Equal(DateOnly.FromDateTime(at.UtcDateTime), chunk.Dates("event_date")[r]);
                seen++;
            }
        }

        Assert.Equal(2500, seen);
    }

    [Fact]
    public void Values_that_do_not_fit_are_refused_and_drop_only_the_row_in_progress()
    {
        var rows = new ColumnBuffer(Schema);
        var notNull = Assert.Throws<ArgumentException>(() => rows.Append((string?)null));
        Assert.Contains("column id", notNull.Message, StringComparison.Ordinal);
        Assert.Contains("NOT NULL", notNull.Message, StringComparison.Ordinal);

        var precise = Assert.Throws<ArgumentException>(() => rows.Append("x").Append("n").Append(1L).Append(1).Append(true).Append(1.0).Append(1.005m));
        Assert.Contains("more than 2 decimal places", precise.Message, StringComparison.Ordinal);

        var wrongType = Assert.Throws<ArgumentException>(() => rows.Append(42L));
        Assert.Contains("does not fit a String column", wrongType.Message, StringComparison.Ordinal);

        var badUtf8 = Assert.Throws<ArgumentException>(() => rows.AppendUtf8([0xC3, 0x28]));
        Assert.Contains("not valid UTF-8", badUtf8.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => rows.Append("short row").EndRow());
        AppendRow(rows, 7);
        Assert.Equal(1, rows.RowCount);
    }

    [Fact]
    public async Task A_null_early_in_a_long_batch_leaves_the_rows_after_it_readable()
    {
        // The null flags grow only when a null is put: rows far past the last null must read as values.
        var schema = new TableSchema("sparse", [new("id", ColumnType.Long), new("note", ColumnType.String, Nullable: true), new("n", ColumnType.Long, Nullable: true)], []);
        using var table = lake.Table("gold/sparse");
        using var connection = TestLake.Connect();
        var snapshot = await table.CreateAsync(schema);
        var rows = new ColumnBuffer(schema);
        for (var i = 0; i < 5000; i++)
        {
            rows.Append((long)i).Append(i == 3 ? null : "x").Append(i == 3 ? null : (long?)i).EndRow();
        }

        rows.Seal();
        var adds = await new DeltaFileWriter(table, schema).WriteAsync([rows], "part-p0000-o000000000000-000000004999");
        var result = await table.CommitAsync(snapshot, new DeltaCommit { Adds = adds });
        var from = (await table.GetReadSetAsync(result.Snapshot)).ToSql();
        Assert.Equal(1, connection.ExecuteScalar<long>($"SELECT count(*) FROM {from} WHERE note IS NULL AND n IS NULL AND id = 3"));
        Assert.Equal(4999, connection.ExecuteScalar<long>($"SELECT count(*) FROM {from} WHERE note = 'x' AND n = id"));
    }

    [Fact]
    public async Task The_files_own_statistics_agree_with_their_values_so_readers_that_prune_row_groups_lose_nothing()
    {
        using var table = lake.Table("silver/every_type");
        using var connection = TestLake.Connect();
        await table.CreateAsync(Schema);
        var rows = new ColumnBuffer(Schema);
        for (var i = 0; i < 3000; i++)
        {
            AppendRow(rows, i);
        }

        rows.Seal();
        var adds = await new DeltaFileWriter(table, Schema).WriteAsync([rows], "part-p0000-o000000000000-000000002999");
        foreach (var add in adds)
        {
            var file = lake.FileOf(table.LakePathOf(add.DataPath));
            // The timestamp column too: its values go to Parquet.Net as INT64 micros (ParquetColumnWriter.WrittenField),
            // since 6.1.0 writes DateTime statistics in milliseconds whatever the column's unit.
            foreach (var column in new[] { "seq", "small", "amount", "rate", "lat", "id", "note", "occurred_at" })
            {
                // What DuckDB finds in the column chunk's statistics, against what it computes from the values.
                var stats = connection.ExecuteScalar<string>(
                    $"SELECT coalesce(stats_min_value, stats_min, '?') || ' .. ' || coalesce(stats_max_value, stats_max, '?') FROM parquet_metadata('{file}') WHERE path_in_schema = '{column}'");
                var values = connection.ExecuteScalar<string>($"SELECT min({column})::VARCHAR || ' .. ' || max({column})::VARCHAR FROM read_parquet('{file}')");
                // A filter on the column's extremes must find the rows through the pruning path too.
                var pruned = connection.ExecuteScalar<long>(
                    $"SELECT count(*) FROM read_parquet('{file}') WHERE {column} >= (SELECT max({column}) FROM read_parquet('{file}'))");
                Assert.True(pruned >= 1, $"{column}: statistics {stats}, values {values}: a filter on the maximum found no row");
                var low = connection.ExecuteScalar<long>(
                    $"SELECT count(*) FROM read_parquet('{file}') WHERE {column} <= (SELECT min({column}) FROM read_parquet('{file}'))");
                Assert.True(low >= 1, $"{column}: statistics {stats}, values {values}: a filter on the minimum found no row");
            }
        }
    }

    [Theory]
    [InlineData("a", "b", -1)]
    [InlineData("ab", "a", 1)]
    [InlineData("\uFFFD", "😀", -1)]
    [InlineData("😀", "\uE000", 1)]
    [InlineData("same", "same", 0)]
    public void Strings_order_by_code_point_as_utf8_bytes_do(string a, string b, int sign)
    {
        Assert.Equal(sign, Math.Sign(ParquetColumnWriter.CompareCodePoints(a, b)));
        Assert.Equal(sign, Math.Sign(System.Text.Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(b))));
    }
}
