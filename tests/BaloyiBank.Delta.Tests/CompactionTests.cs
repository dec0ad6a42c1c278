using FsCheck;
using FsCheck.Fluent;

namespace BaloyiBank.Delta.Tests;

/// <summary>
/// Compaction (OPTIMIZE) and vacuum on a real folder lake: rows and their order per partition survive, appends racing a
/// compaction both land, a conflicting removal ends it cleanly, a crash between write and commit changes nothing a reader
/// sees, and vacuum deletes only files removed (or never committed) longer ago than the retention.
/// </summary>
public sealed class CompactionTests : IDisposable
{
    private static readonly DeltaCompactionOptions Four = new(MinFiles: 4);

    private readonly TestLake lake = new();

    public void Dispose() => lake.Dispose();

    /// <summary>Ten batches of 40 rows (a row every ~2.2 h of event time): one small file per batch and event date, up to ten per date.</summary>
    private static async Task<DeltaSnapshot> TenBatchesAsync(DeltaTable table)
    {
        var snapshot = await table.CreateAsync(TransactionRows.Schema);
        for (var batch = 0; batch < 10; batch++)
        {
            snapshot = (await TransactionRows.WriteBatchAsync(table, snapshot, partition: 0, first: batch * 40, count: 40)).Result.Snapshot;
        }

        return snapshot;
    }

    /// <summary>The rows a reader of the snapshot sees, per event date, in read order (DuckDB over the read set).</summary>
    private static async Task<Dictionary<DateOnly, List<string>>> RowsByDateAsync(DeltaTable table, DeltaSnapshot snapshot)
    {
        var rows = TransactionRows.Read((await table.GetReadSetAsync(snapshot)).ToSql());
        return rows.GroupBy(r => r.EventDate).ToDictionary(g => g.Key, g => g.Select(r => r.Key).ToList());
    }

    private static int FilesOn(DeltaSnapshot snapshot, DateOnly date) =>
        snapshot.Files.Values.Count(f => f.PartitionValues["event_date"] == date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task Compaction_leaves_one_file_per_date_with_the_same_rows_in_the_same_order_and_no_progress_change()
    {
        using var table = lake.Table();
        var before = await TenBatchesAsync(table);
        var rowsBefore = await RowsByDateAsync(table, before);
        var crowded = rowsBefore.Keys.Where(d => FilesOn(before, d) >= 4).ToList();
        Assert.NotEmpty(crowded);
        Assert.Contains(rowsBefore.Keys, d => FilesOn(before, d) < 4);

        var results = await table.CompactAsync(Four);

        Assert.Equal(crowded.Count, results.Count);
        Assert.All(results, r => Assert.Equal(DeltaCompactionStatus.Committed, r.Status));
        var after = await lake.Table().LoadAsync();
        Assert.All(rowsBefore.Keys, d => Assert.Equal(crowded.Contains(d) ? 1 : FilesOn(before, d), FilesOn(after, d)));
        var rowsAfter = await RowsByDateAsync(table, after);
        foreach (var (date, rows) in rowsBefore)
        {
            Assert.Equal(rows, rowsAfter[date]);
        }

        // Progress is untouched and the commits are OPTIMIZE: dataChange=false, no txn.
        Assert.Equal(before.Transactions, after.Transactions);
        Assert.Equal(before.RecordCount, after.RecordCount);
        var changes = await table.ReadChangesAsync(before.Version, after.Version);
        Assert.All(changes, c =>
        {
            Assert.Equal("OPTIMIZE", c.CommitInfo!.Operation);
            Assert.Empty(c.Transactions);
            Assert.Single(c.Adds);
            Assert.All(c.Adds, a => Assert.False(a.DataChange));
            Assert.All(c.Removes, r => Assert.False(r.DataChange));
            Assert.InRange(c.Removes.Count, 4, 10);
        });

        // The project's column reader agrees with DuckDB on the compacted files.
        var readSet = await table.GetReadSetAsync(after);
        List<long> sequences = [];
        await foreach (var chunk in ColumnChunk.ReadAsync(readSet, ["sequence", "event_date"]))
        {
            sequences.AddRange(chunk.Longs("sequence"));
        }

        Assert.Equal(TransactionRows.Read(readSet.ToSql()).Select(r => r.Sequence), sequences);

        // A second pass finds nothing to do.
        Assert.Empty(await table.CompactAsync(Four));
    }

    [Fact]
    public async Task An_append_committed_while_a_compaction_writes_lands_and_the_compaction_commits_after_it()
    {
        using var table = lake.Table();
        var snapshot = await TenBatchesAsync(table);
        var bin = DeltaCompaction.Plan(snapshot.Files.Values, snapshot.Metadata.PartitionColumns, Four)[0];
        var write = await table.WriteCompactionAsync(snapshot, bin);

        // The streaming writer commits its next batch meanwhile, from the same (now stale) snapshot.
        var (append, appended) = await TransactionRows.WriteBatchAsync(table, snapshot, partition: 0, first: 400, count: 40);
        Assert.Equal(DeltaCommitStatus.Committed, append.Status);

        var result = await table.CommitCompactionAsync(snapshot, write, Four);

        Assert.Equal(DeltaCompactionStatus.Committed, result.Status);
        var after = await lake.Table().LoadAsync();
        Assert.Equal(snapshot.Version + 2, after.Version);
        Assert.All(appended, a => Assert.Contains(a.Path, after.Files.Keys));
        Assert.Contains(write.Compacted.Path, after.Files.Keys);
        Assert.All(bin.Files, f => Assert.DoesNotContain(f.Path, after.Files.Keys));
        Assert.Equal(440, TransactionRows.Read((await table.GetReadSetAsync(after)).ToSql()).Select(r => r.TransactionId).Distinct().Count());
        Assert.Equal(439, after.TransactionVersion(TransactionRows.AppId(0)));
    }

    [Fact]
    public async Task A_compaction_whose_file_another_commit_removed_gives_up_and_changes_nothing()
    {
        using var table = lake.Table();
        var snapshot = await TenBatchesAsync(table);
        var bin = DeltaCompaction.Plan(snapshot.Files.Values, snapshot.Metadata.PartitionColumns, Four)[0];
        var write = await table.WriteCompactionAsync(snapshot, bin);

        // Another compactor got there first with an overlapping set of files.
        var rival = new DeltaCompactionBin(bin.PartitionValues, [.. bin.Files.Skip(2)]);
        Assert.Equal(DeltaCompactionStatus.Committed, (await table.CompactAsync(snapshot, rival, Four)).Status);
        var rowsBefore = await RowsByDateAsync(table, await lake.Table().LoadAsync());

        var result = await table.CommitCompactionAsync(snapshot, write, Four);

        Assert.Equal(DeltaCompactionStatus.Conflicted, result.Status);
        Assert.Contains("also removed", result.Reason, StringComparison.Ordinal);
        var after = await lake.Table().LoadAsync();
        Assert.Equal(snapshot.Version + 1, after.Version);
        Assert.DoesNotContain(write.Compacted.Path, after.Files.Keys);
        Assert.Equal(rowsBefore, await RowsByDateAsync(table, after));
        Assert.Equal(after.Version, result.Snapshot.Version);
    }

    [Fact]
    public async Task A_crash_between_write_and_commit_leaves_the_rows_as_they_were_and_the_rerun_reuses_the_name()
    {
        using var table = lake.Table();
        var snapshot = await TenBatchesAsync(table);
        var rowsBefore = await RowsByDateAsync(table, snapshot);
        var bin = DeltaCompaction.Plan(snapshot.Files.Values, snapshot.Metadata.PartitionColumns, Four)[0];

        // Killed mid-write: the write is cancelled; killed after it: its file is written and never committed.
        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => table.WriteCompactionAsync(snapshot, bin, cancellationToken: cancelled.Token));
        }

        var crashed = await table.WriteCompactionAsync(snapshot, bin);
        var orphan = lake.FileOf(table.LakePathOf(crashed.Compacted.DataPath));
        Assert.True(File.Exists(orphan));

        var reopened = await lake.Table().LoadAsync();
        Assert.Equal(snapshot.Version, reopened.Version);
        Assert.Equal(rowsBefore, await RowsByDateAsync(table, reopened));
        Assert.Equal([table.LakePathOf(crashed.Compacted.DataPath)], (await table.FindOrphansAsync(DateTimeOffset.UtcNow.AddMinutes(1))).Select(o => o.Path));

        // The next pass plans the same bin, writes the same name over the orphan, and commits it.
        var results = await lake.Table().CompactAsync(Four);
        Assert.Contains(results, r => r.Compacted?.Path == crashed.Compacted.Path);
        var after = await lake.Table().LoadAsync();
        Assert.Equal(rowsBefore, await RowsByDateAsync(table, after));
        Assert.Empty(await table.FindOrphansAsync(DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task A_write_older_than_the_limit_is_not_committed()
    {
        var clock = new ShiftedTime();
        using var table = new DeltaTable(lake.Store, "silver/transactions", lake.Options() with { TimeProvider = clock });
        var snapshot = await TenBatchesAsync(table);
        var bin = DeltaCompaction.Plan(snapshot.Files.Values, snapshot.Metadata.PartitionColumns, Four)[0];
        var write = await table.WriteCompactionAsync(snapshot, bin);
        clock.Offset = TimeSpan.FromMinutes(11);

        var result = await table.CommitCompactionAsync(snapshot, write, Four);

        Assert.Equal(DeltaCompactionStatus.TooSlow, result.Status);
        Assert.Equal(snapshot.Version, (await lake.Table().LoadAsync()).Version);
    }

    [Fact]
    public async Task Vacuum_deletes_only_files_removed_or_orphaned_longer_ago_than_the_retention_and_never_a_live_file()
    {
        var clock = new ShiftedTime();
        using var table = new DeltaTable(lake.Store, "silver/transactions", lake.Options() with { TimeProvider = clock });
        var snapshot = await TenBatchesAsync(table);
        var compacted = await table.CompactAsync(Four);
        var removed = compacted.SelectMany(r => r.Bin.Files).Select(f => table.LakePathOf(f.DataPath)).ToList();
        var orphan = (await TransactionRows.WriteFilesAsync(table, TransactionRows.Schema, TransactionRows.Generate(1, 0, 10), "part-orphan"))
            .Select(a => table.LakePathOf(a.DataPath)).ToList();
        var hour = TimeSpan.FromHours(1);

        // Within the retention nothing goes: time travel to the versions before the compaction still works.
        Assert.Empty((await table.VacuumAsync(hour)).Deleted);
        Assert.Equal(await RowsByDateAsync(table, snapshot), await RowsByDateAsync(table, await table.LoadAsync(snapshot.Version)));

        // Two hours on: the removed files and the orphans go, the live files stay.
        clock.Offset = TimeSpan.FromHours(2);
        var live = (await table.LoadAsync()).Files.Values.Select(f => table.LakePathOf(f.DataPath)).ToList();
        var vacuum = await table.VacuumAsync(hour);

        Assert.Equal(removed.Concat(orphan).Order(StringComparer.Ordinal), vacuum.Deleted.Order(StringComparer.Ordinal));
        Assert.All(removed.Concat(orphan), p => Assert.False(File.Exists(lake.FileOf(p))));
        Assert.All(live, p => Assert.True(File.Exists(lake.FileOf(p))));
        var current = await lake.Table().LoadAsync();
        Assert.Equal(400, TransactionRows.Read((await table.GetReadSetAsync(current)).ToSql()).Count);

        // A file written long ago but removed just now is kept: the retention counts from its removal.
        var more = await TransactionRows.WriteBatchAsync(table, current, partition: 0, first: 400, count: 40);
        var recompact = await new DeltaTable(lake.Store, "silver/transactions", lake.Options() with { TimeProvider = clock }).CompactAsync(new DeltaCompactionOptions(MinFiles: 2));
        Assert.NotEmpty(recompact);
        clock.Offset = TimeSpan.FromHours(2.5);
        Assert.Empty((await table.VacuumAsync(hour)).Deleted);
        var latest = await table.LoadAsync();
        Assert.Equal(440, TransactionRows.Read((await table.GetReadSetAsync(latest)).ToSql()).Count);
        Assert.All(more.Adds, a => Assert.True(File.Exists(lake.FileOf(table.LakePathOf(a.DataPath)))));
    }

    [Fact]
    public async Task Checkpoints_forget_tombstones_past_the_retention_so_a_load_stays_small()
    {
        var clock = new ShiftedTime();
        using var table = new DeltaTable(lake.Store, "silver/transactions", lake.Options() with { TimeProvider = clock, TombstoneRetention = TimeSpan.FromHours(1) });
        var snapshot = await TenBatchesAsync(table);
        var removed = (await table.CompactAsync(Four)).Sum(r => r.Bin.Files.Count);
        Assert.InRange(removed, 4, 100);
        Assert.Equal(removed, (await table.LoadAsync()).Tombstones.Count);

        // Two hours later the next checkpoint (every 10 versions) leaves them out.
        clock.Offset = TimeSpan.FromHours(2);
        snapshot = await table.LoadAsync();
        while ((snapshot.Version + 1) % 10 != 0)
        {
            snapshot = (await TransactionRows.WriteBatchAsync(table, snapshot, partition: 1, first: snapshot.Version * 10, count: 5)).Result.Snapshot;
        }

        snapshot = (await TransactionRows.WriteBatchAsync(table, snapshot, partition: 1, first: snapshot.Version * 10, count: 5)).Result.Snapshot;
        Assert.Equal(0, snapshot.Version % 10);
        var loaded = await lake.Table().LoadAsync();
        Assert.Equal(snapshot.Version, loaded.LoadInfo.CheckpointVersion);
        Assert.Empty(loaded.Tombstones);
        Assert.Empty(snapshot.Tombstones); // the writer's own snapshot forgot them too
        Assert.Equal(snapshot.Files.Keys.Order(StringComparer.Ordinal), loaded.Files.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Plan_takes_one_bin_per_crowded_partition_of_its_small_files_first_fit_in_path_order_within_the_target()
    {
        var files = Gen.Zip(Gen.Choose(0, 3), Gen.Choose(1, 300)).ArrayOf()
            .Select(specs => specs.Select((s, i) => new AddFile
            {
                Path = $"event_date=2026-01-0{s.Item1 + 1}/f{(i * 7919) % 1000:D4}-{i}.parquet",
                PartitionValues = new Dictionary<string, string?> { ["event_date"] = $"2026-01-0{s.Item1 + 1}" },
                Size = s.Item2,
                ModificationTime = 0,
            }).ToList())
            .ToArbitrary();
        var options = Gen.Zip(Gen.Choose(2, 6), Gen.Choose(50, 1000)).Select(o => new DeltaCompactionOptions(o.Item1, o.Item2)).ToArbitrary();

        Prop.ForAll(files, options, (all, o) =>
        {
            var bins = DeltaCompaction.Plan(all, ["event_date"], o);
            var partitions = bins.Select(b => b.PartitionValues["event_date"]).ToList();
            var ok = partitions.Distinct().Count() == partitions.Count;
            foreach (var group in all.GroupBy(f => f.PartitionValues["event_date"]))
            {
                var small = group.Where(f => f.Size < o.TargetFileBytes / 2).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
                var bin = bins.SingleOrDefault(b => b.PartitionValues["event_date"] == group.Key);

                // Compacted exactly when crowded with small files; then at least two of them, in path order, within the
                // target, and every small file left out would not have fitted.
                ok &= (bin is not null) == (small.Count >= o.MinFiles);
                if (bin is not null)
                {
                    ok &= bin.Files.Count >= 2
                        && bin.Bytes <= o.TargetFileBytes
                        && bin.Files.All(small.Contains)
                        && bin.Files.SequenceEqual(bin.Files.OrderBy(f => f.Path, StringComparer.Ordinal))
                        && small.Except(bin.Files).All(f => bin.Bytes + f.Size > o.TargetFileBytes);
                }
            }

            return ok;
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>The system clock moved by <see cref="Offset"/>: ages files and tombstones without waiting.</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }
}
