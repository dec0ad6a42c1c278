using BaloyiBank.Aggregator;
using BaloyiBank.Aggregator.Tests;
using BaloyiBank.Lake;
using BaloyiBank.Warehouse;

namespace BaloyiBank.Sink.Tests;

/// <summary>
/// Real gold: the aggregator tests' <see cref="SilverRig"/> (the generated stream in a real embedded log, cleansed by the
/// real cleansing worker into a real folder lake), folded by the real aggregator. Nothing is mocked.
/// </summary>
internal sealed class GoldRig : IAsyncDisposable
{
    private readonly SilverRig _silver;

    private GoldRig(SilverRig silver) => _silver = silver;

    public string Root => _silver.Root;
    public FolderLakeStore Lake => _silver.Lake;

    public static SinkOptions SinkOptions => new() { Interval = TimeSpan.FromMilliseconds(200), LeaseDuration = TimeSpan.FromSeconds(2) };

    public static async Task<GoldRig> CreateAsync() => new(await SilverRig.CreateAsync(0));

    /// <summary>
    /// Appends the next <paramref name="events"/> generated events, cleanses them and folds them into the live gold
    /// generation (as the aggregator worker resolves it); returns gold's round.
    /// </summary>
    public async Task<long> AddGoldAsync(int events)
    {
        await _silver.AppendAsync(events);
        await _silver.CleanseAsync();
        var options = new AggregatorOptions { CompactionFileThreshold = 4 };
        var live = await GoldGenerations.ResolveAsync(Lake, options);
        using var aggregator = new GoldAggregator(Lake, options.WithRoots(live.SilverRoot, live.Root));
        await aggregator.StartAsync();
        await aggregator.CatchUpAsync();
        return aggregator.Round;
    }

    public IWarehouse OpenDuckDb(string name = "warehouse") =>
        WarehouseFactory.Create(new WarehouseOptions { Kind = "duckdb", DuckDbPath = Path.Combine(Root, $"{name}.duckdb") });

    public static Task WaitForAsync(Func<bool> condition, string what, Func<string?>? failure = null, TimeSpan? timeout = null) =>
        SilverRig.WaitForAsync(condition, what, failure, timeout);

    public ValueTask DisposeAsync() => _silver.DisposeAsync();
}
