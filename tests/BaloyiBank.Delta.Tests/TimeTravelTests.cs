namespace BaloyiBank.Delta.Tests;

/// <summary>Delta time travel: a snapshot at an older version sees exactly the files and txns it had then.</summary>
public sealed class TimeTravelTests : IDisposable
{
    private readonly TestLake lake = new();

    public void Dispose() => lake.Dispose();

    private static AddFile Add(string path) => new() { Path = path, PartitionValues = new Dictionary<string, string?> { ["event_date"] = "2026-01-01" }, Size = 1, ModificationTime = 0 };

    [Fact]
    public async Task A_snapshot_at_each_version_holds_the_files_and_txn_of_that_version_across_checkpoints()
    {
        using var table = lake.Table(checkpointInterval: 2);
        var snapshot = await table.CreateAsync(TransactionRows.Schema);
        for (var round = 1; round <= 5; round++)
        {
            // Each version replaces the previous file: one active file per version, like a gold refresh.
            var removes = snapshot.Files.Values.Select(f => RemoveFile.For(f, 0)).ToList();
            snapshot = (await table.CommitAsync(snapshot, new DeltaCommit { Adds = [Add($"r{round}.parquet")], Removes = removes, Transaction = new("gold:current", round) })).Snapshot;
        }

        for (var version = 1; version <= 5; version++)
        {
            var old = await lake.Table(checkpointInterval: 2).LoadAsync(version);
            Assert.Equal(version, old.Version);
            Assert.Equal([$"r{version}.parquet"], old.Files.Keys);
            Assert.Equal(version, old.TransactionVersion("gold:current"));
        }

        Assert.Empty((await table.LoadAsync(0)).Files);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => table.LoadAsync(6));
    }
}
