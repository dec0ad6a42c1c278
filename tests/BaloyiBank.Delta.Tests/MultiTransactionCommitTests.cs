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

    [Fact]
    public async Task A_fenced_commit_from_a_stale_snapshot_is_refused_once_another_writer_committed_its_range()
    {
        using var table = lake.Table();
        var created = await table.CreateAsync(TransactionRows.Schema);
        var first = await table.CommitAsync(created, new DeltaCommit { Transactions = [new DeltaTransaction("g-p0", 99), new DeltaTransaction("g-p1", 49)] });

        // Another writer (a new owner of p1) commits p1's next range, and a third one p0's: the stale writer loses the race for the version.
        using var other = lake.Table();
        var otherSnapshot = await other.LoadAsync();
        var p1 = await other.CommitAsync(otherSnapshot, new DeltaCommit { Transactions = [new DeltaTransaction("g-p1", 80)], Fences = [new DeltaTransactionFence("g-p1", 50)] });
        Assert.Equal(DeltaCommitStatus.Committed, p1.Status);

        // Stale p0-only commit: p1 moved, not p0, so the fence holds and the commit lands after a lost race.
        var p0 = await table.CommitAsync(first.Snapshot, new DeltaCommit { Transactions = [new DeltaTransaction("g-p0", 150)], Fences = [new DeltaTransactionFence("g-p0", 100)] });
        Assert.Equal(DeltaCommitStatus.Committed, p0.Status);

        // The stale owner of p1 tries its range 50-70 from its snapshot of before both: refused, nothing written.
        var stale = new DeltaCommit { Transactions = [new DeltaTransaction("g-p0", 200), new DeltaTransaction("g-p1", 70)], Fences = [new DeltaTransactionFence("g-p0", 151), new DeltaTransactionFence("g-p1", 50)] };
        var refused = await Assert.ThrowsAsync<DeltaFencedException>(() => table.CommitAsync(first.Snapshot, stale));
        Assert.Equal("g-p1", refused.AppId);
        Assert.Equal(80, refused.Found);
        Assert.Contains("g-p1", refused.Message, StringComparison.Ordinal);
        Assert.Equal(3, (await lake.Table().LoadAsync()).Version);

        // Exactly the commit already in the table (a retried identical range) is still AlreadyCommitted, not refused.
        var same = await table.CommitAsync(first.Snapshot, new DeltaCommit { Transactions = [new DeltaTransaction("g-p1", 80)], Fences = [new DeltaTransactionFence("g-p1", 50)] });
        Assert.Equal(DeltaCommitStatus.AlreadyCommitted, same.Status);
    }
}
