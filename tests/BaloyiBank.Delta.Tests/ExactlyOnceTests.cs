namespace BaloyiBank.Delta.Tests;

/// <summary>Invariants 2–4 end to end: same range, same names; the log's txn says what is done; orphans never surface.</summary>
public sealed class ExactlyOnceTests : IDisposable
{
    private readonly TestLake lake = new();

    public void Dispose() => lake.Dispose();

    [Fact]
    public async Task Writing_the_same_offset_range_twice_gives_the_same_files_and_the_second_commit_is_already_committed()
    {
        using var table = lake.Table();
        var created = await table.CreateAsync(TransactionRows.Schema);
        var (first, firstAdds) = await TransactionRows.WriteBatchAsync(table, created, partition: 3, first: 1200, count: 300);
        Assert.Equal(DeltaCommitStatus.Committed, first.Status);

        // A restarted writer that lost its memory replays the batch from its stale snapshot …
        var (second, secondAdds) = await TransactionRows.WriteBatchAsync(table, created, partition: 3, first: 1200, count: 300);
        Assert.Equal(firstAdds.Select(a => a.Path), secondAdds.Select(a => a.Path));
        Assert.All(firstAdds, a => Assert.EndsWith("/part-p0003-o000000001200-000000001499.zstd.parquet", a.Path, StringComparison.Ordinal));
        Assert.Equal(DeltaCommitStatus.AlreadyCommitted, second.Status);
        Assert.Equal(1, second.Version);

        // … and the resume point comes from the log itself (invariant 4).
        var resumed = await lake.Table().LoadAsync();
        Assert.Equal(1499, resumed.TransactionVersion(TransactionRows.AppId(3)));
        Assert.True(resumed.IsCommitted(TransactionRows.AppId(3), 1499));
        Assert.False(resumed.IsCommitted(TransactionRows.AppId(3), 1500));
        Assert.Null(resumed.TransactionVersion(TransactionRows.AppId(4)));
        var rows = TransactionRows.Read((await table.GetReadSetAsync(resumed)).ToSql());
        Assert.Equal(300, rows.Count);
    }

    [Fact]
    public async Task An_uncommitted_file_is_invisible_and_deleted_after_the_grace_period_while_committed_files_stay()
    {
        using var table = lake.Table();
        var created = await table.CreateAsync(TransactionRows.Schema);
        var (committed, committedAdds) = await TransactionRows.WriteBatchAsync(table, created, partition: 0, first: 0, count: 100);

        // A crashed writer: files uploaded, commit never written.
        var orphanAdds = await TransactionRows.WriteFilesAsync(table, TransactionRows.Schema, TransactionRows.Generate(0, 100, 100), TransactionRows.Stem(0, 100, 199));
        Assert.All(orphanAdds, a => Assert.True(File.Exists(lake.FileOf(table.LakePathOf(a.DataPath)))));

        var snapshot = await committed.Snapshot.UpdateAsync();
        var rows = TransactionRows.Read((await table.GetReadSetAsync(snapshot)).ToSql());
        Assert.Equal(100, rows.Count);
        Assert.All(rows, r => Assert.InRange(r.Sequence, 0, 99));

        // Young orphans survive a grace period; once old enough they go. Committed files of any age stay.
        Assert.Empty(await table.DeleteOrphansAsync(TimeSpan.FromHours(1)));
        var twoHoursAgo = DateTime.UtcNow.AddHours(-2);
        foreach (var add in orphanAdds.Concat(committedAdds))
        {
            File.SetLastWriteTimeUtc(lake.FileOf(table.LakePathOf(add.DataPath)), twoHoursAgo);
        }

        var found = await table.FindOrphansAsync(DateTimeOffset.UtcNow.AddHours(-1));
        Assert.Equal(orphanAdds.Select(a => table.LakePathOf(a.DataPath)).Order(StringComparer.Ordinal), found.Select(f => f.Path).Order(StringComparer.Ordinal));
        var deleted = await table.DeleteOrphansAsync(TimeSpan.FromHours(1));
        Assert.Equal(orphanAdds.Count, deleted.Count);
        Assert.All(orphanAdds, a => Assert.False(File.Exists(lake.FileOf(table.LakePathOf(a.DataPath)))));
        Assert.All(committedAdds, a => Assert.True(File.Exists(lake.FileOf(table.LakePathOf(a.DataPath)))));
        Assert.True(File.Exists(lake.FileOf("silver/transactions/_delta_log/00000000000000000000.json")));
        Assert.Equal(100, TransactionRows.Read((await table.GetReadSetAsync(await table.LoadAsync())).ToSql()).Count);
    }

    [Fact]
    public async Task Removed_files_are_tombstones_not_orphans()
    {
        using var table = lake.Table();
        var created = await table.CreateAsync(TransactionRows.Schema);
        var added = await table.CommitAsync(created, CommitConcurrencyTests.Commit("old", "p0", 1));
        var file = added.Snapshot.Files.Values.Single();
        var path = lake.FileOf(table.LakePathOf(file.DataPath));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, new byte[100]);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-3));
        var removed = await table.CommitAsync(added.Snapshot, new DeltaCommit { Removes = [RemoveFile.For(file, 1)], Operation = "DELETE" });

        Assert.Empty(removed.Snapshot.Files);
        Assert.Single(removed.Snapshot.Tombstones);
        Assert.Empty(await table.FindOrphansAsync(DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Orphan_search_on_a_path_without_a_table_deletes_nothing()
    {
        await lake.Store.PutAsync("silver/not-a-table/part-0.parquet", new byte[10]);
        File.SetLastWriteTimeUtc(lake.FileOf("silver/not-a-table/part-0.parquet"), DateTime.UtcNow.AddDays(-1));
        using var table = lake.Table("silver/not-a-table");
        Assert.Empty(await table.DeleteOrphansAsync(TimeSpan.Zero));
        Assert.True(File.Exists(lake.FileOf("silver/not-a-table/part-0.parquet")));
    }
}
