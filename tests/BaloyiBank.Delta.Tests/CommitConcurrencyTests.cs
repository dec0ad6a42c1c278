using System.Text;

namespace BaloyiBank.Delta.Tests;

/// <summary>Racing writers: put-if-absent decides, the loser retries at the next version or learns it already committed.</summary>
public sealed class CommitConcurrencyTests : IDisposable
{
    private static readonly Dictionary<string, string?> Day = new() { ["event_date"] = "2026-01-01" };

    private readonly TestLake lake = new();

    public void Dispose() => lake.Dispose();

    [Fact]
    public async Task Two_writers_racing_for_one_version_both_land_one_retried_at_the_next()
    {
        using var writerA = lake.Table();
        using var writerB = lake.Table();
        var created = await writerA.CreateAsync(TransactionRows.Schema);
        var seenByB = await writerB.LoadAsync();

        // Both read version 0 and both aim at version 1.
        var a = await writerA.CommitAsync(created, Commit("a", appId: "p0", version: 10));
        var b = await writerB.CommitAsync(seenByB, Commit("b", appId: "p1", version: 20));

        Assert.Equal((DeltaCommitStatus.Committed, 1L, 1), (a.Status, a.Version, a.Attempts));
        Assert.Equal((DeltaCommitStatus.Committed, 2L, 2), (b.Status, b.Version, b.Attempts));
        var final = await lake.Table().LoadAsync();
        Assert.Equal(2, final.Version);
        Assert.Equal(["a.parquet", "b.parquet"], final.Files.Values.Select(f => f.DataPath[(f.DataPath.IndexOf('/', StringComparison.Ordinal) + 1)..]).Order(StringComparer.Ordinal));
        Assert.Equal(10, final.TransactionVersion("p0"));
        Assert.Equal(20, final.TransactionVersion("p1"));
        // The loser's snapshot already includes the winner's commit.
        Assert.Equal(2, b.Snapshot.Files.Count);
    }

    [Fact]
    public async Task Many_writers_in_parallel_lose_nothing_and_leave_a_gap_free_log()
    {
        using var creator = lake.Table(checkpointInterval: 7);
        await creator.CreateAsync(TransactionRows.Schema);
        const int writers = 4;
        const int commitsEach = 12;
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            using var table = lake.Table(checkpointInterval: 7);
            var snapshot = await table.LoadAsync();
            for (var i = 0; i < commitsEach; i++)
            {
                var result = await table.CommitAsync(snapshot, Commit($"w{w}-{i}", appId: $"writer-{w}", version: i));
                Assert.Equal(DeltaCommitStatus.Committed, result.Status);
                snapshot = result.Snapshot;
            }
        })).ToArray();
        await Task.WhenAll(tasks);

        var final = await lake.Table().LoadAsync();
        Assert.Equal(writers * commitsEach, final.Version);
        Assert.Equal(writers * commitsEach, final.Files.Count);
        Assert.All(Enumerable.Range(0, writers), w => Assert.Equal(commitsEach - 1, final.TransactionVersion($"writer-{w}")));
        var fromJson = await lake.Table().LoadFromCommitsOnlyAsync();
        Assert.Equal(final.Files.Keys.Order(StringComparer.Ordinal), fromJson!.Files.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_same_txn_raced_twice_is_committed_exactly_once()
    {
        using var writerA = lake.Table();
        using var writerB = lake.Table();
        var snapshot = await writerA.CreateAsync(TransactionRows.Schema);

        var outcomes = await Task.WhenAll(
            writerA.CommitAsync(snapshot, Commit("same", appId: "p7", version: 1499)),
            writerB.CommitAsync(snapshot, Commit("same", appId: "p7", version: 1499)));

        Assert.Single(outcomes, o => o.Status == DeltaCommitStatus.Committed);
        Assert.Single(outcomes, o => o.Status == DeltaCommitStatus.AlreadyCommitted);
        var final = await lake.Table().LoadAsync();
        Assert.Equal(1, final.Version);
        Assert.Single(CommitFilesMentioning("\"appId\":\"p7\""));

        // A replay of an older batch of the same application is also recognised.
        var replay = await writerB.CommitAsync(snapshot, Commit("older", appId: "p7", version: 1000));
        Assert.Equal(DeltaCommitStatus.AlreadyCommitted, replay.Status);
        Assert.Equal(1, (await lake.Table().LoadAsync()).Version);
    }

    [Fact]
    public async Task Concurrent_removal_of_the_same_file_is_a_conflict_not_a_retry()
    {
        using var writerA = lake.Table();
        using var writerB = lake.Table();
        var created = await writerA.CreateAsync(TransactionRows.Schema);
        var withFile = (await writerA.CommitAsync(created, Commit("x", appId: "p0", version: 1))).Snapshot;
        var file = withFile.Files.Values.Single();

        await writerA.CommitAsync(withFile, new DeltaCommit { Removes = [RemoveFile.For(file, 1)], Operation = "DELETE" });
        var conflict = await Assert.ThrowsAsync<DeltaConcurrentModificationException>(() =>
            writerB.CommitAsync(withFile, new DeltaCommit { Removes = [RemoveFile.For(file, 2)], Operation = "DELETE" }));
        Assert.Equal(2, conflict.ConflictingVersion);
        Assert.Contains("also removed", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_checkpoint_never_fails_the_commit()
    {
        using var table = lake.Table(store: new CheckpointRejectingLakeStore(lake.Store), checkpointInterval: 2);
        var snapshot = await table.CreateAsync(TransactionRows.Schema);
        for (var i = 0; i < 4; i++)
        {
            var result = await table.CommitAsync(snapshot, Commit($"f{i}", appId: "p0", version: i));
            Assert.Equal(DeltaCommitStatus.Committed, result.Status);
            snapshot = result.Snapshot;
        }

        Assert.Empty(Directory.GetFiles(LogFolder, "*.checkpoint.parquet"));
        Assert.False(File.Exists(Path.Combine(LogFolder, "_last_checkpoint")));
        var loaded = await lake.Table().LoadAsync();
        Assert.Equal((4L, (long?)null, 5), (loaded.Version, loaded.LoadInfo.CheckpointVersion, loaded.LoadInfo.CommitFilesRead));
    }

    private string LogFolder => lake.FileOf("silver/transactions/_delta_log");

    private IEnumerable<string> CommitFilesMentioning(string text) =>
        Directory.GetFiles(LogFolder, "*.json").Where(f => File.ReadAllText(f, Encoding.UTF8).Contains(text, StringComparison.Ordinal));

    /// <summary>A commit of one (not physically written) file: the log logic does not read data files.</summary>
    internal static DeltaCommit Commit(string file, string appId, long version) => new()
    {
        Adds =
        [
            new AddFile
            {
                Path = $"event_date=2026-01-01/{file}.parquet",
                PartitionValues = Day,
                Size = 100,
                ModificationTime = 1_767_225_600_000,
                Stats = """{"numRecords":1,"minValues":{},"maxValues":{},"nullCount":{}}""",
            },
        ],
        Transaction = new DeltaTransaction(appId, version),
        Operation = "STREAMING UPDATE",
    };
}
