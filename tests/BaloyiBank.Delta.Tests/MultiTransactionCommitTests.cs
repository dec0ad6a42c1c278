namespace BaloyiBank.Delta.Tests;

/// <summary>A commit that carries several txn actions (one per source partition of a flush) lands whole or not at all.</summary>
public sealed class MultiTransactionCommitTests : IDisposable
{
    private readonly TestLake lake = new();

    public void Dispose() => lake.Dispose();

    [Fact]
    public async Task Every_txn_of_a_commit_is_recorded_and_replaying_the_commit_is_already_committed()
    {
        using var table = lake.Table();
        var created = await table.CreateAsync(TransactionRows.Schema);
        var commit = new DeltaCommit
        {
            Transactions = [new DeltaTransaction("g-p0", 99), new DeltaTransaction("g-p1", 49), new DeltaTransaction("g-p2", 7)],
            Operation = "STREAMING UPDATE",
        };

        var first = await table.CommitAsync(created, commit);
        Assert.Equal(DeltaCommitStatus.Committed, first.Status);
        var loaded = await lake.Table().LoadAsync();
        Assert.Equal(99, loaded.TransactionVersion("g-p0"));
        Assert.Equal(49, loaded.TransactionVersion("g-p1"));
        Assert.Equal(7, loaded.TransactionVersion("g-p2"));

        // The same flush replayed from the stale snapshot: nothing written.
        var replay = await table.CommitAsync(created, commit);
        Assert.Equal(DeltaCommitStatus.AlreadyCommitted, replay.Status);
        Assert.Equal(1, (await lake.Table().LoadAsync()).Version);
    }

    [Fact]
    public async Task A_commit_whose_txns_are_only_partly_held_is_refused_not_half_applied()
    {
        using var table = lake.Table();
        var created = await table.CreateAsync(TransactionRows.Schema);
        var done = await table.CommitAsync(created, new DeltaCommit { Transactions = [new DeltaTransaction("g-p0", 99)] });

        var mixed = new DeltaCommit { Transactions = [new DeltaTransaction("g-p0", 99), new DeltaTransaction("g-p1", 10)] };
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => table.CommitAsync(done.Snapshot, mixed));
        Assert.Contains("g-p1", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await lake.Table().LoadAsync()).Version);
    }

    [Fact]
    public async Task A_commit_naming_one_app_id_twice_is_rejected()
    {
        using var table = lake.Table();
        var created = await table.CreateAsync(TransactionRows.Schema);
        var twice = new DeltaCommit { Transactions = [new DeltaTransaction("g-p0", 1), new DeltaTransaction("g-p0", 2)] };
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(created, twice));
    }
}
