using Xunit.Abstractions;
using System.Diagnostics;

namespace BaloyiBank.Delta.Tests;

/// <summary>Loading snapshots: from checkpoints, incrementally, and the clear failures (no table, a gap).</summary>
public sealed class SnapshotLoadingTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLake lake = new();

    public void Dispose() => lake.Dispose();

    [Fact]
    public async Task A_snapshot_over_155_commits_reads_the_checkpoint_and_only_the_commits_after_it()
    {
        await WriteCommitsAsync(lake.Table(), 155);

        var counting = new CountingLakeStore(lake.Store);
        using var reader = lake.Table(store: counting);
        var snapshot = await reader.LoadAsync();

        Assert.Equal(155, snapshot.Version);
        Assert.Equal(150, snapshot.LoadInfo.CheckpointVersion);
        Assert.Equal(5, counting.CommitReads);
        Assert.InRange(counting.CommitReads, 0, reader.Options.CheckpointInterval);
        Assert.Contains(counting.Reads, p => p.EndsWith("00000000000000000150.checkpoint.parquet", StringComparison.Ordinal));
        Assert.Equal(155, snapshot.Files.Count);
        Assert.Equal(154, snapshot.TransactionVersion("p0"));

        // Incremental: an update after two more commits reads exactly those two.
        using var writer = lake.Table();
        var writerSnapshot = await writer.LoadAsync();
        for (var i = 155; i < 157; i++)
        {
            writerSnapshot = (await writer.CommitAsync(writerSnapshot, CommitConcurrencyTests.Commit($"f{i}", "p0", i))).Snapshot;
        }

        counting.Reset();
        var updated = await snapshot.UpdateAsync();
        Assert.Equal(157, updated.Version);
        Assert.Equal(2, counting.CommitReads);
        Assert.Equal(2, updated.LoadInfo.CommitFilesRead);
        Assert.Same(updated, await updated.UpdateAsync());
        Assert.Equal(155, snapshot.Version); // The old snapshot is unchanged.
    }

    [Fact]
    public async Task A_snapshot_from_checkpoint_plus_commits_equals_one_replayed_from_json_alone()
    {
        using var table = lake.Table(checkpointInterval: 5);
        var snapshot = await table.CreateAsync(TransactionRows.Schema);
        for (var i = 0; i < 23; i++)
        {
            var commit = CommitConcurrencyTests.Commit($"f{i}", $"p{i % 3}", i);
            if (i % 4 == 3)
            {
                // Some removes, so that tombstones go through the checkpoint too.
                var victim = snapshot.Files.Values.OrderBy(f => f.Path, StringComparer.Ordinal).First();
                commit = commit with { Removes = [RemoveFile.For(victim, 1_767_225_600_000 + i)] };
            }

            snapshot = (await table.CommitAsync(snapshot, commit)).Snapshot;
        }

        var viaCheckpoint = await lake.Table().LoadAsync();
        var viaJson = await lake.Table().LoadFromCommitsOnlyAsync();
        Assert.NotNull(viaJson);
        Assert.Equal(20, viaCheckpoint.LoadInfo.CheckpointVersion);
        Assert.Null(viaJson.LoadInfo.CheckpointVersion);
        foreach (var other in new[] { viaJson, snapshot })
        {
            Assert.Equal(other.Version, viaCheckpoint.Version);
            Assert.Equal(other.Protocol, viaCheckpoint.Protocol);
            Assert.Equal(other.Metadata.Id, viaCheckpoint.Metadata.Id);
            Assert.Equal(other.Metadata.SchemaString, viaCheckpoint.Metadata.SchemaString);
            Assert.Equal(other.Metadata.PartitionColumns, viaCheckpoint.Metadata.PartitionColumns);
            Assert.Equal(other.Schema.Columns, viaCheckpoint.Schema.Columns);
            Assert.Equal(Describe(other.Files.Values), Describe(viaCheckpoint.Files.Values));
            Assert.Equal(other.Tombstones.Keys.Order(StringComparer.Ordinal), viaCheckpoint.Tombstones.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(
                other.Transactions.Values.Select(t => (t.AppId, t.Version)).Order(),
                viaCheckpoint.Transactions.Values.Select(t => (t.AppId, t.Version)).Order());
        }
    }

    [Fact]
    public async Task A_missing_table_is_reported_clearly()
    {
        using var table = lake.Table("silver/nothing-here");
        Assert.Null(await table.TryLoadAsync());
        var error = await Assert.ThrowsAsync<DeltaTableNotFoundException>(() => table.LoadAsync());
        Assert.Contains("silver/nothing-here/_delta_log/00000000000000000000.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gap_in_the_log_is_an_error_naming_the_missing_commit()
    {
        await WriteCommitsAsync(lake.Table(), 14);
        File.Delete(lake.FileOf("silver/transactions/_delta_log/00000000000000000012.json"));

        var error = await Assert.ThrowsAsync<DeltaLogCorruptException>(() => lake.Table().LoadAsync());
        Assert.Equal("silver/transactions/_delta_log/00000000000000000012.json", error.LogFile);
        Assert.Contains("00000000000000000012.json is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_last_checkpoint_the_newest_checkpoint_is_found_by_listing()
    {
        await WriteCommitsAsync(lake.Table(), 23);
        File.Delete(lake.FileOf("silver/transactions/_delta_log/_last_checkpoint"));
        var snapshot = await lake.Table().LoadAsync();
        Assert.Equal((23L, (long?)20, 3), (snapshot.Version, snapshot.LoadInfo.CheckpointVersion, snapshot.LoadInfo.CommitFilesRead));
    }

    [Fact]
    public async Task A_corrupt_checkpoint_falls_back_to_replaying_the_json()
    {
        await WriteCommitsAsync(lake.Table(), 12);
        await File.WriteAllTextAsync(lake.FileOf("silver/transactions/_delta_log/00000000000000000010.checkpoint.parquet"), "not parquet");
        var snapshot = await lake.Table().LoadAsync();
        Assert.Equal((12L, (long?)null, 13), (snapshot.Version, snapshot.LoadInfo.CheckpointVersion, snapshot.LoadInfo.CommitFilesRead));
        Assert.Equal(12, snapshot.Files.Count);
    }

    [Fact]
    public async Task Thousand_commits_commit_and_load_in_reasonable_time()
    {
        const int commits = 1000;
        var watch = Stopwatch.StartNew();
        await WriteCommitsAsync(lake.Table(), commits);
        var commitMs = watch.Elapsed.TotalMilliseconds / commits;

        watch.Restart();
        var snapshot = await lake.Table().LoadAsync();
        var checkpointLoadMs = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        var replayed = await lake.Table().LoadFromCommitsOnlyAsync();
        var jsonLoadMs = watch.Elapsed.TotalMilliseconds;

        Assert.Equal(commits, snapshot.Version);
        Assert.Equal(commits, replayed!.Files.Count);
        output.WriteLine($"{commits} commits on the folder lake: {commitMs:F2} ms per commit (incl. a checkpoint every 10); " +
            $"load via checkpoint {checkpointLoadMs:F0} ms; replay of all JSON {jsonLoadMs:F0} ms");
        Assert.InRange(checkpointLoadMs, 0, 5_000);
    }

    /// <summary>Version 0 plus <paramref name="count"/> commits of one file and one txn each.</summary>
    private static async Task WriteCommitsAsync(DeltaTable table, int count)
    {
        using (table)
        {
            var snapshot = await table.CreateAsync(TransactionRows.Schema);
            for (var i = 0; i < count; i++)
            {
                snapshot = (await table.CommitAsync(snapshot, CommitConcurrencyTests.Commit($"f{i:D5}", "p0", i))).Snapshot;
            }
        }
    }

    private static List<string> Describe(IEnumerable<AddFile> files) =>
        [.. files.Select(f => $"{f.Path}|{string.Join(",", f.PartitionValues.Select(p => $"{p.Key}={p.Value}"))}|{f.Size}|{f.ModificationTime}|{f.DataChange}|{f.Stats}").Order(StringComparer.Ordinal)];
}
