namespace BaloyiBank.Delta.Tests;

/// <summary>Reading what changed between two versions (for downstream tables) and recording several txns in one commit.</summary>
public sealed class ChangeRangeTests : IDisposable
{
    private readonly TestLake lake = new();

    public void Dispose() => lake.Dispose();

    [Fact]
    public async Task Changes_between_versions_are_exactly_the_adds_of_those_commits_and_read_back_as_their_rows()
    {
        using var table = lake.Table(checkpointInterval: 2);
        var snapshot = await table.CreateAsync(TransactionRows.Schema);
        List<IReadOnlyList<AddFile>> batches = [];
        for (var i = 0; i < 5; i++)
        {
            var (result, adds) = await TransactionRows.WriteBatchAsync(table, snapshot, partition: i % 2, first: i * 100, count: 100);
            snapshot = result.Snapshot;
            batches.Add(adds);
        }

        // Versions 1..5 hold batches 0..4; checkpoints at 2 and 4 do not hide the JSON commits.
        var changes = await table.ReadChangesAsync(2, 4);
        Assert.Equal([3L, 4L], changes.Select(c => c.Version));
        Assert.Equal(batches[2].Concat(batches[3]).Select(a => a.Path).Order(StringComparer.Ordinal), changes.SelectMany(c => c.Adds).Select(a => a.Path).Order(StringComparer.Ordinal));
        Assert.All(changes, c => Assert.Single(c.Transactions));
        Assert.Empty(await table.ReadChangesAsync(5, 5));
        Assert.Equal(5, (await table.ReadChangesAsync(-1, 5)).Count(c => c.Adds.Count > 0));

        var readSet = await table.GetReadSetAsync(snapshot.Schema, 4, [.. changes.SelectMany(c => c.Adds)]);
        var rows = TransactionRows.Read(readSet.ToSql());
        Assert.Equal(200, rows.Count);
        Assert.All(rows, r => Assert.InRange(r.Sequence, 200, 399));

        await Assert.ThrowsAsync<DeltaLogCorruptException>(() => table.ReadChangesAsync(4, 9));
    }

    [Fact]
    public async Task Progress_txns_land_with_the_commit_but_only_the_main_txn_makes_it_already_committed()
    {
        using var table = lake.Table();
        var snapshot = await table.CreateAsync(TransactionRows.Schema);
        var first = await table.CommitAsync(snapshot, new DeltaCommit
        {
            Transaction = new("aggregator", 1),
            Progress = [new("silver/transactions", 17), new("silver/accounts", 4)],
        });
        Assert.Equal(DeltaCommitStatus.Committed, first.Status);

        var loaded = await lake.Table().LoadAsync();
        Assert.Equal(17, loaded.TransactionVersion("silver/transactions"));
        Assert.Equal(4, loaded.TransactionVersion("silver/accounts"));
        Assert.Equal(1, loaded.TransactionVersion("aggregator"));

        // A replay of round 1 from the stale snapshot writes nothing, whatever its progress says.
        var replay = await table.CommitAsync(snapshot, new DeltaCommit { Transaction = new("aggregator", 1), Progress = [new("silver/transactions", 99)] });
        Assert.Equal(DeltaCommitStatus.AlreadyCommitted, replay.Status);
        Assert.Equal(17, (await lake.Table().LoadAsync()).TransactionVersion("silver/transactions"));

        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(loaded, new DeltaCommit
        {
            Transaction = new("aggregator", 2),
            Progress = [new("aggregator", 3)],
        }));
    }
}
