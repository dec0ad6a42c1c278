namespace BaloyiBank.Delta.Tests;

/// <summary>What DuckDB reads through a snapshot is exactly what was written, however the snapshot was built.</summary>
public sealed class ReadBackTests : IDisposable
{
    private readonly TestLake lake = new();

    public void Dispose() => lake.Dispose();

    [Fact]
    public async Task Read_parquet_over_the_snapshot_returns_exactly_the_rows_written_across_commits_and_checkpoints()
    {
        using var table = lake.Table();
        var snapshot = await table.CreateAsync(TransactionRows.Schema);
        List<TransactionRow> written = [];
        for (var batch = 0; batch < 25; batch++)
        {
            var partition = batch % 4;
            var first = (batch / 4) * 500L;
            (var result, _) = await TransactionRows.WriteBatchAsync(table, snapshot, partition, first, count: 120);
            Assert.Equal(DeltaCommitStatus.Committed, result.Status);
            snapshot = result.Snapshot;
            written.AddRange(TransactionRows.Generate(partition, first, 120));
        }

        Assert.Equal(25, snapshot.Version);
        Assert.Equal(written.Count, snapshot.RecordCount);

        // A fresh table object loads from checkpoint 20 plus commits 21..25; the writer's own snapshot was built in memory.
        using var reader = lake.Table();
        var loaded = await reader.LoadAsync();
        Assert.Equal(20, loaded.LoadInfo.CheckpointVersion);
        Assert.Equal(5, loaded.LoadInfo.CommitFilesRead);

        foreach (var view in new[] { snapshot, loaded })
        {
            var readSet = await view.Table.GetReadSetAsync(view);
            var read = TransactionRows.Read(readSet.ToSql());
            Assert.Equal(written.Select(r => r.Key).Order(StringComparer.Ordinal), read.Select(r => r.Key).Order(StringComparer.Ordinal));
        }

        // Values keep their exact types: money to the cent, instants in UTC to the microsecond.
        var sample = TransactionRows.Read((await reader.GetReadSetAsync(loaded)).ToSql() + " WHERE transaction_id = 'tx-01-000000007'").Single();
        var expected = written.Single(r => r.TransactionId == "tx-01-000000007");
        Assert.Equal(expected.Amount, sample.Amount);
        Assert.Equal(TimeSpan.Zero, sample.BookedAt.Offset);
        Assert.Equal(expected.BookedAt, sample.BookedAt);
    }

    [Fact]
    public async Task Downloaded_read_set_matches_the_in_place_one()
    {
        using var table = new DeltaTable(new CountingLakeStore(lake.Store), "gold/balances", lake.Options());
        var snapshot = await table.CreateAsync(TransactionRows.Schema);
        (var result, _) = await TransactionRows.WriteBatchAsync(table, snapshot, partition: 1, first: 0, count: 200);

        var cache = Path.Combine(lake.Root, "cache");
        var readSet = await table.GetReadSetAsync(result.Snapshot, cache);
        Assert.All(readSet.Files, f => Assert.StartsWith(cache, f.LocalPath, StringComparison.Ordinal));
        var rows = TransactionRows.Read(readSet.ToSql());
        Assert.Equal(TransactionRows.Generate(1, 0, 200).Select(r => r.Key).Order(StringComparer.Ordinal), rows.Select(r => r.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_empty_table_reads_as_an_empty_relation_with_its_columns()
    {
        using var table = lake.Table();
        var snapshot = await table.CreateAsync(TransactionRows.Schema);
        var readSet = await table.GetReadSetAsync(snapshot);
        Assert.Empty(TransactionRows.Read(readSet.ToSql()));
    }

    [Fact]
    public async Task Unusual_partition_values_are_escaped_in_folders_and_encoded_in_paths()
    {
        var schema = new TableSchema("quarantine", [new("reason", ColumnType.String, Nullable: true), new("payload", ColumnType.String)], ["reason"]);
        using var table = lake.Table("quarantine/events");
        using var connection = TestLake.Connect();
        var snapshot = await table.CreateAsync(schema);
        var rows = new ColumnBuffer(schema);
        foreach (var (reason, payload) in new[] { ("bad amount: 12%/x", "a"), ("bad amount: 12%/x", "b"), (null, "c"), ("ünï cødé", "d") })
        {
            rows.Append(reason).Append(payload).EndRow();
        }

        rows.Seal();
        var adds = await new DeltaFileWriter(table, schema).WriteAsync([rows], "part-p0000-o000000000000-000000000003");

        Assert.Equal(3, adds.Count);
        var escaped = adds.Single(a => a.PartitionValues["reason"] == "bad amount: 12%/x");
        Assert.Equal("reason=bad amount%3A 12%25%2Fx/part-p0000-o000000000000-000000000003.zstd.parquet", escaped.DataPath);
        Assert.Equal("reason=bad%20amount%253A%2012%2525%252Fx/part-p0000-o000000000000-000000000003.zstd.parquet", escaped.Path);
        var nullPartition = adds.Single(a => a.PartitionValues["reason"] is null);
        Assert.StartsWith("reason=__HIVE_DEFAULT_PARTITION__/", nullPartition.DataPath, StringComparison.Ordinal);

        var committed = await table.CommitAsync(snapshot, new DeltaCommit { Adds = adds });
        var reloaded = await lake.Table("quarantine/events").LoadAsync();
        Assert.Equal(committed.Snapshot.Files.Keys.Order(StringComparer.Ordinal), reloaded.Files.Keys.Order(StringComparer.Ordinal));
        var readSet = await table.GetReadSetAsync(reloaded);
        using var result = connection.Query($"SELECT string_agg(coalesce(reason, '<null>') || '=' || payload, ';' ORDER BY payload) FROM {readSet.ToSql()}");
        result.Read();
        Assert.Equal("bad amount: 12%/x=a;bad amount: 12%/x=b;<null>=c;ünï cødé=d", result.GetString(0));
    }

    [Fact]
    public async Task The_archive_layout_writes_no_dictionary_and_reads_back_the_same_rows_as_the_default()
    {
        // A string column: the Parquet.Net writer's dictionary hints (Layout.Dictionary) are for strings.
        var columns = new List<ColumnSchema> { new("id", ColumnType.Long), new("payload", ColumnType.String) };
        var dictionaries = new Dictionary<string, long>();
        var encodings = new Dictionary<string, string>();
        foreach (var (name, layout) in new[] { ("default", ParquetLayout.Default), ("archive", ParquetLayout.Archive) })
        {
            var schema = new TableSchema("raw", columns, []) { Layout = layout };
            using var table = lake.Table($"bronze/{name}");
            using var connection = TestLake.Connect();
            var snapshot = await table.CreateAsync(schema);
            // Few distinct payloads: the default layout dictionary-encodes them, the archive layout must not.
            var rows = new ColumnBuffer(schema);
            for (var id = 0L; id < 1000; id++)
            {
                rows.Append(id).Append($"payload-{id % 3}").EndRow();
            }

            rows.Seal();
            var adds = await new DeltaFileWriter(table, schema).WriteAsync([rows], "part-p0000-o000000000000-000000000999");
            var result = await table.CommitAsync(snapshot, new DeltaCommit { Adds = adds });
            var readSet = await table.GetReadSetAsync(result.Snapshot);

            Assert.Equal(1000, connection.ExecuteScalar<long>($"SELECT count(*) FROM {readSet.ToSql()} WHERE payload = 'payload-' || (id % 3)::VARCHAR"));
            var file = lake.FileOf(table.LakePathOf(adds.Single().DataPath));
            dictionaries[name] = connection.ExecuteScalar<long>(
                $"SELECT count(*) FROM parquet_metadata('{file}') WHERE path_in_schema = 'payload' AND (dictionary_page_offset IS NOT NULL OR encodings LIKE '%DICTIONARY%')");
            encodings[name] = connection.ExecuteScalar<string>($"SELECT string_agg(encodings || '/' || coalesce(dictionary_page_offset::VARCHAR, '-'), ';') FROM parquet_metadata('{file}') WHERE path_in_schema = 'payload'");
        }

        Assert.True(dictionaries["default"] > 0, $"the default layout dictionary-encodes a column of three distinct values (encodings: {encodings["default"]})");
        Assert.Equal(0, dictionaries["archive"]);
    }
}
