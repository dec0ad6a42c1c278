namespace BaloyiBank.Lake.Blob.Tests;

/// <summary>The benchmark runs end to end on a small scale and cleans up after itself (speed is reported, never asserted).</summary>
[Collection(AzuriteGroup.Name)]
public sealed class BlobLakeBenchmarkTests(AzuriteServer azurite) : IAsyncLifetime
{
    private readonly BlobLakeStore _store = azurite.Store(AzuriteServer.NewContainerName("bench"));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _store.DeleteContainerAsync();
        _store.Dispose();
    }

    [Fact]
    public async Task A_small_run_measures_every_figure_and_leaves_nothing_behind()
    {
        await _store.PutAsync("silver/keep.json", "{}"u8.ToArray());
        var options = new BlobLakeBenchmarkOptions
        {
            ObjectSizes = [64 * 1024, 17 * 1024 * 1024],
            BytesPerSize = 512 * 1024,
            SmallObjects = 20,
            InFlight = [1, 4],
        };

        var result = await BlobLakeBenchmark.RunAsync(_store, options);

        Assert.Equal(["put", "get", "put (file)", "get (file)"], result.Throughput.Select(f => f.Operation));
        Assert.Equal([8, 8, 1, 1], result.Throughput.Select(f => f.Objects));
        Assert.Equal([("put-if-absent", 1), ("get", 1), ("put-if-absent", 4), ("get", 4)], result.SmallObjects.Select(f => (f.Operation, f.InFlight)));
        Assert.All(result.Throughput.Concat(result.SmallObjects), f => Assert.True(f.Elapsed > TimeSpan.Zero));
        Assert.Contains("MiB/s", result.ToString(), StringComparison.Ordinal);
        Assert.Equal(["silver/keep.json"], await _store.ListAsync("").Select(o => o.Path).ToListAsync());
    }
}
