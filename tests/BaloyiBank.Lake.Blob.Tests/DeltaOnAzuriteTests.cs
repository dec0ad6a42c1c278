using BaloyiBank.Delta;
using BaloyiBank.Delta.Tests;

namespace BaloyiBank.Lake.Blob.Tests;

/// <summary>Delta tables on Azurite: commits by put-if-absent under concurrent writers, Parquet data and checkpoints through the blob store.</summary>
[Collection(AzuriteGroup.Name)]
public sealed class DeltaOnAzuriteTests(AzuriteServer azurite) : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> Day = new() { ["event_date"] = "2026-01-01" };

    private readonly string _scratch = Directory.CreateTempSubdirectory("blob-delta-").FullName;
    private readonly List<BlobLakeStore> _stores = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DeleteContainerAsync();
            store.Dispose();
        }

        Directory.Delete(_scratch, recursive: true);
    }

    [Fact]
    public async Task Eight_writers_committing_at_once_lose_nothing_and_leave_a_gap_free_log()
    {
        var lake = NewStore();
        using var creator = Table(lake);
        await creator.CreateAsync(TransactionRows.Schema);
        const int Writers = 8;
        const int CommitsEach = 6;

        var results = await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            using var table = Table(lake);
            var snapshot = await table.LoadAsync();
            var attempts = 0;
            for (var i = 0; i < CommitsEach; i++)
            {
                var result = await table.CommitAsync(snapshot, Commit($"w{w}-{i}", $"writer-{w}", i));
                Assert.Equal(DeltaCommitStatus.Committed, result.Status);
                attempts += result.Attempts;
                snapshot = result.Snapshot;
            }

            return attempts;
        })));

        using var reader = Table(lake);
        var final = await reader.LoadAsync();
        Assert.Equal(Writers * CommitsEach, final.Version);
        Assert.Equal(Writers * CommitsEach, final.Files.Count);
        Assert.All(Enumerable.Range(0, Writers), w => Assert.Equal(CommitsEach - 1, final.TransactionVersion($"writer-{w}")));
        var commits = await lake.ListAsync("silver/transactions/_delta_log/").Where(o => o.Path.EndsWith(".json", StringComparison.Ordinal)).Select(o => o.Path).ToListAsync();
        Assert.Equal(Enumerable.Range(0, Writers * CommitsEach + 1).Select(v => $"silver/transactions/_delta_log/{v:D20}.json"), commits);
        // Writers really collided: some commits needed more than one attempt.
        Assert.True(results.Sum() > Writers * CommitsEach, $"attempts {results.Sum()}");
    }

    [Fact]
    public async Task The_same_batch_committed_by_two_racing_writers_lands_exactly_once()
    {
        var lake = NewStore();
        using var writerA = Table(lake);
        using var writerB = Table(lake);
        var snapshot = await writerA.CreateAsync(TransactionRows.Schema);

        for (var batch = 0; batch < 10; batch++)
        {
            var outcomes = await Task.WhenAll(
                Task.Run(() => writerA.CommitAsync(snapshot, Commit($"same-{batch}", "p7", batch))),
                Task.Run(() => writerB.CommitAsync(snapshot, Commit($"same-{batch}", "p7", batch))));

            Assert.Single(outcomes, o => o.Status == DeltaCommitStatus.Committed);
            Assert.Single(outcomes, o => o.Status == DeltaCommitStatus.AlreadyCommitted);
            snapshot = outcomes.Single(o => o.Status == DeltaCommitStatus.Committed).Snapshot;
        }

        var final = await Table(lake).LoadAsync();
        Assert.Equal(10, final.Version);
        Assert.Equal(9, final.TransactionVersion("p7"));
    }

    [Fact]
    public async Task Parquet_batches_from_four_concurrent_writers_read_back_exactly_through_downloads_and_checkpoints()
    {
        var lake = NewStore();
        using (var creator = Table(lake))
        {
            await creator.CreateAsync(TransactionRows.Schema);
        }

        const int Batches = 5;
        const int Rows = 150;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(partition => Task.Run(async () =>
        {
            using var table = Table(lake);
            var snapshot = await table.LoadAsync();
            for (var batch = 0; batch < Batches; batch++)
            {
                var (result, _) = await TransactionRows.WriteBatchAsync(table, snapshot, partition, batch * 1_000L, Rows);
                Assert.Equal(DeltaCommitStatus.Committed, result.Status);
                snapshot = result.Snapshot;
            }
        })));

        using var reader = Table(lake);
        var loaded = await reader.LoadAsync();
        Assert.Equal(4 * Batches, loaded.Version);
        Assert.Equal(14, loaded.LoadInfo.CheckpointVersion);
        Assert.True(await lake.GetInfoAsync("silver/transactions/_delta_log/00000000000000000014.checkpoint.parquet") is { Size: > 0 });
        var readSet = await reader.GetReadSetAsync(loaded, Path.Combine(_scratch, "cache"));
        var read = TransactionRows.Read(readSet.ToSql());
        var expected = Enumerable.Range(0, 4).SelectMany(p => Enumerable.Range(0, Batches).SelectMany(b => TransactionRows.Generate(p, b * 1_000L, Rows)));
        Assert.Equal(expected.Select(r => r.Key).Order(StringComparer.Ordinal), read.Select(r => r.Key).Order(StringComparer.Ordinal));
        Assert.All(readSet.Files, f => Assert.StartsWith(_scratch, f.LocalPath, StringComparison.Ordinal));
    }

    private BlobLakeStore NewStore()
    {
        var store = azurite.Store(AzuriteServer.NewContainerName("delta"));
        _stores.Add(store);
        return store;
    }

    private DeltaTable Table(ILakeStore lake) => new(lake, "silver/transactions", new DeltaTableOptions
    {
        CheckpointInterval = 7,
        TempDirectory = Path.Combine(_scratch, Guid.NewGuid().ToString("N")),
        MaxCommitAttempts = 100,
    });

    private static DeltaCommit Commit(string file, string appId, long version) => new()
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
